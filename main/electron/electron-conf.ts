/**
 * The node store's file, written by electron-store in the desktop app
 * (StoreOpenOptions.createConf). NodeStore hands over conf options; this
 * maps them onto electron-store's, which differ in one place that matters:
 * electron-store names the file by `name` (default "config") and overwrites
 * conf's `configName` with it. Passing the options through unchanged would
 * write config.json instead of lvs-node.json and the data dir would no
 * longer move between the headless node and the desktop app.
 */
import type { Options } from 'conf';
import ElectronStore from 'electron-store';
import type { StoreData } from '../store/schema.js';

export function electronStoreOptions(options: Options<StoreData>): ConstructorParameters<typeof ElectronStore<StoreData>>[0] {
  const { configName, projectName: _projectName, projectVersion: _projectVersion, projectSuffix: _projectSuffix, ...rest } = options;
  if (!rest.cwd) throw new Error('the node store needs an explicit directory (cwd)');
  return { ...rest, name: configName ?? 'config' };
}

export function createElectronConf(options: Options<StoreData>): ElectronStore<StoreData> {
  return new ElectronStore<StoreData>(electronStoreOptions(options));
}
