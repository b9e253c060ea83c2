// The extension table of the lab's skeleton (gif jpg jpeg png ico zip gz tar htm html) with the
// real media types (the skeleton's image/zip, image/gz and image/tar were wrong), plus the
// types a present-day page needs. Any other extension is answered 415.
export const MIME_TYPES: Readonly<Record<string, string>> = {
  gif: 'image/gif',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  ico: 'image/vnd.microsoft.icon',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  htm: 'text/html; charset=utf-8',
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
  pdf: 'application/pdf',
  webp: 'image/webp',
  woff2: 'font/woff2',
  mp4: 'video/mp4',
  wasm: 'application/wasm',
};

/** The media type for a file name, or undefined when its extension is not in the table. */
export function mimeTypeOf(fileName: string): string | undefined {
  const slash = fileName.lastIndexOf('/');
  const dot = fileName.lastIndexOf('.');
  if (dot <= slash + 1) return undefined; // no extension, or a dot file like ".htaccess"
  return MIME_TYPES[fileName.slice(dot + 1).toLowerCase()];
}
