// Secondary indexes of the books: id -> set of keys, with empty sets dropped.

export function index<K>(map: Map<string, Set<K>>, id: string, key: K): void {
  let set = map.get(id);
  if (!set) map.set(id, (set = new Set()));
  set.add(key);
}

export function unindex<K>(map: Map<string, Set<K>>, id: string, key: K): void {
  const set = map.get(id);
  if (!set) return;
  set.delete(key);
  if (set.size === 0) map.delete(id);
}
