// Undoes Content-Encoding before bodies are compared: a gzip answer and a plain one with the same
// bytes inside are the same answer. Decoding is capped, so a small compressed body cannot expand
// past --max-body-bytes in memory.
import zlib from 'node:zlib';

export type Decoded = { bytes: Buffer } | { overCap: true } | { error: string };

type Inflate = (bytes: Buffer, options: { maxOutputLength: number }) => Buffer;

const DECODERS: Readonly<Record<string, Inflate>> = {
  gzip: zlib.gunzipSync,
  'x-gzip': zlib.gunzipSync,
  // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate; accept both.
  deflate: (bytes, options) => {
    try {
      return zlib.inflateSync(bytes, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
      return zlib.inflateRawSync(bytes, options);
    }
  },
  br: zlib.brotliDecompressSync,
  zstd: zlib.zstdDecompressSync,
};

/** The codings of a Content-Encoding header, in the order they were applied. */
export function contentCodings(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
}

export function decodeBody(bytes: Buffer, header: string | string[] | undefined, maxBytes: number): Decoded {
  let out = bytes;
  // Codings are listed in the order applied, so they are undone from the last.
  for (const coding of contentCodings(header).reverse()) {
    const decode = DECODERS[coding];
    if (!decode) return { error: `unsupported content-encoding ${JSON.stringify(coding)}` };
    try {
      out = decode(out, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { overCap: true };
      return { error: `invalid ${coding} body: ${(err as Error).message}` };
    }
  }
  return { bytes: out };
}
