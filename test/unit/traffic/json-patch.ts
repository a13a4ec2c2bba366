// A tiny RFC 6902 applier for the operations msop sends (add, replace, remove, test), so the
// tests check the route a patch leaves behind, not only the operations. All or nothing: the
// input is never changed, and a failed operation throws.
import type { JsonPatchOperation } from '../../../src/kube/client';

export class PatchError extends Error {
  override name = 'PatchError';
}

type Container = Record<string, unknown> | unknown[];

// Routes are plain JSON: clone and compare as JSON (structuredClone's objects come from another realm under jest).
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isContainer(a) && isContainer(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k as never], b[k as never]))
    );
  }
  return a === b;
}

function tokens(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw new PatchError(`"${pointer}" is not a JSON pointer`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function child(container: Container, token: string, pointer: string): unknown {
  if (Array.isArray(container)) {
    if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= container.length)
      throw new PatchError(`${pointer}: no index ${token}`);
    return container[Number(token)];
  }
  if (!Object.hasOwn(container, token)) throw new PatchError(`${pointer}: no member ${token}`);
  return container[token];
}

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

export function applyPatch<T>(document: T, operations: JsonPatchOperation[]): T {
  const root = clone(document);
  for (const { op, path, value } of operations) {
    const parts = tokens(path);
    const last = parts.pop()!;
    let parent: unknown = root;
    for (const token of parts) {
      if (!isContainer(parent)) throw new PatchError(`${path}: ${token} is inside a non-container`);
      parent = child(parent, token, path);
    }
    if (!isContainer(parent)) throw new PatchError(`${path}: the parent is not a container`);
    switch (op) {
      case 'test':
        if (!jsonEqual(child(parent, last, path), value))
          throw new PatchError(`${path}: test failed, expected ${JSON.stringify(value)}`);
        break;
      case 'add':
        if (Array.isArray(parent)) {
          const index = last === '-' ? parent.length : Number(last);
          if (!/^(0|[1-9]\d*|-)$/.test(last) || index > parent.length)
            throw new PatchError(`${path}: no index ${last}`);
          parent.splice(index, 0, clone(value));
        } else parent[last] = clone(value);
        break;
      case 'replace':
        child(parent, last, path);
        if (Array.isArray(parent)) parent[Number(last)] = clone(value);
        else parent[last] = clone(value);
        break;
      case 'remove':
        child(parent, last, path);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
    }
  }
  return root;
}
