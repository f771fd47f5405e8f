// Records gathered by key in one pass (tasks by agent, offers by framework):
// the state builds group with this, then read each group once.

/** Appends `value` to the list kept for `key`, starting it when there is none. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
