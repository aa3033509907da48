/**
 * The WebAssembly kernel's bytes (main/sim/kernel.wat), written as
 * dist/main/sim/kernel-wasm.js by scripts/build-wasm.mjs during
 * `npm run build`: a module importing a memory that is not shared (one
 * thread) and the same module importing a shared one (worker threads).
 */
export declare const KERNEL_WASM_LOCAL: Uint8Array;
export declare const KERNEL_WASM_SHARED: Uint8Array;
