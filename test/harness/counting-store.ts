// An in-memory registry store that keeps every write it is given, in order:
// what the registry tests read to see what reached the store, and when.
import { InMemoryStore, type RegistryChange } from '../../master/registry/registry.js';

export class CountingStore extends InMemoryStore {
  readonly batches: RegistryChange[][] = [];
  override async write(changes: readonly RegistryChange[]): Promise<void> {
    this.batches.push([...changes]);
    await super.write(changes);
  }
}
