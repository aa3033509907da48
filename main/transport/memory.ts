/**
 * In-memory transport: every node of a MemoryNetwork lives in one process,
 * frames are queued and delivered in order. With `autoDeliver: false` nothing
 * moves until `network.deliverAll()`, so node tests are deterministic.
 */
import { randomUUID } from 'node:crypto';
import { DialError, type AdmissionHint, type Link, type Transport, type TransportHandler } from './transport.js';

interface Pending {
  to: MemoryLink;
  frame: string | Uint8Array;
}

export class MemoryNetwork {
  private readonly byAddress = new Map<string, MemoryTransport>();
  private readonly queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly options: { autoDeliver: boolean } = { autoDeliver: true }) {}

  register(address: string, transport: MemoryTransport): void {
    if (this.byAddress.has(address)) throw new Error(`address ${address} is in use`);
    this.byAddress.set(address, transport);
  }

  unregister(address: string): void {
    this.byAddress.delete(address);
  }

  lookup(address: string): MemoryTransport | undefined {
    return this.byAddress.get(address);
  }

  enqueue(to: MemoryLink, frame: string | Uint8Array): void {
    this.queue.push({ to, frame });
    if (this.options.autoDeliver && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.deliverAll();
      });
    }
  }

  /** Delivers every queued frame (and any frames sent while delivering). Returns how many. */
  deliverAll(): number {
    let n = 0;
    while (this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (item.to.isOpen) {
        item.to.owner.receive(item.to, item.frame);
        n++;
      }
    }
    return n;
  }
}

class MemoryLink implements Link {
  isOpen = true;
  peer!: MemoryLink;

  constructor(
    readonly owner: MemoryTransport,
    readonly peerId: string,
    readonly peerInstance: string,
    readonly dialledAddress: string | undefined,
    readonly remoteAddress: string,
    readonly dialledBy: string,
  ) {}

  send(frame: string): boolean {
    if (!this.isOpen) return false;
    this.owner.network.enqueue(this.peer, frame);
    return true;
  }

  /** Sends raw bytes; only tests use it, to prove binary frames are rejected. */
  sendBinary(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.owner.network.enqueue(this.peer, bytes);
    return true;
  }

  close(reason: string): void {
    if (!this.isOpen) return;
    this.owner.drop(this, reason);
    this.peer.owner.drop(this.peer, 'closed by peer');
  }
}

export class MemoryTransport implements Transport {
  readonly instance = randomUUID();
  private handler: TransportHandler | null = null;
  private admit: (peerId: string, hint?: AdmissionHint) => boolean = () => true;
  private readonly links = new Map<string, MemoryLink>();
  private closed = false;

  constructor(
    readonly network: MemoryNetwork,
    readonly localId: string,
    readonly address: string,
  ) {
    network.register(address, this);
  }

  setHandler(handler: TransportHandler): void {
    this.handler = handler;
  }

  setAdmission(admit: (peerId: string, hint?: AdmissionHint) => boolean): void {
    this.admit = admit;
  }

  /** Test hook: the open link to a peer, if any. */
  linkTo(peerId: string): (Link & { sendBinary(bytes: Uint8Array): boolean }) | undefined {
    return this.links.get(peerId);
  }

  async dial(address: string): Promise<string> {
    if (this.closed) throw new DialError('closed', 'transport is shut down');
    const remote = this.network.lookup(address);
    if (!remote || remote.closed) throw new DialError('unreachable', `nothing listens at ${address}`);
    if (remote === this) throw new DialError('self', `${address} is this node`);
    const existing = this.links.get(remote.localId);
    if (existing) {
      // Same rule as the real transport: the link dialled by the lower id wins,
      // and the losing dial follows the winner (resolves with the peer's id).
      const keepExisting = existing.peerInstance === remote.instance && existing.dialledBy < this.localId;
      if (keepExisting) return remote.localId;
    }
    if (!this.admit(remote.localId) || !remote.admit(this.localId, { alone: this.links.size === 0 })) {
      throw new DialError('full', `${address} or this node is at its peer limit`, remote.localId);
    }
    const mine = new MemoryLink(this, remote.localId, remote.instance, address, address, this.localId);
    const theirs = new MemoryLink(remote, this.localId, this.instance, undefined, this.address, this.localId);
    mine.peer = theirs;
    theirs.peer = mine;
    this.install(mine);
    remote.install(theirs);
    return remote.localId;
  }

  private install(link: MemoryLink): void {
    const old = this.links.get(link.peerId);
    if (old) old.close('replaced');
    this.links.set(link.peerId, link);
    this.handler?.onLink(link);
  }

  receive(link: MemoryLink, frame: string | Uint8Array): void {
    if (this.links.get(link.peerId) === link) this.handler?.onFrame(link, frame);
  }

  drop(link: MemoryLink, reason: string): void {
    if (!link.isOpen) return;
    link.isOpen = false;
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    this.handler?.onUnlink(link, reason);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of [...this.links.values()]) link.close('shutdown');
    this.network.unregister(this.address);
  }
}
