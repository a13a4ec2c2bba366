// undici (8 MiB of the operator's idle RSS) is loaded on the first analysis query or webhook call, not at start:
// an operator that never judges a release never pays for it.
let loading: Promise<typeof import('undici')> | undefined;

export function undici(): Promise<typeof import('undici')> {
  loading ??= import('undici');
  return loading;
}
