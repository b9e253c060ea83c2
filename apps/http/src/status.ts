// Reason phrases and the small HTML pages of the error answers. A page says what happened in
// words of its own: it never repeats what the client sent (no reflected input).

export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  206: 'Partial Content',
  301: 'Moved Permanently',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const EXPLAIN: Readonly<Record<number, string>> = {
  400: 'The request could not be understood.',
  403: 'You do not have permission to get this resource.',
  404: 'The requested resource was not found on this server.',
  405: 'This method is not allowed for this resource.',
  408: 'The request took too long to arrive.',
  411: 'This request needs a Content-Length.',
  413: 'The request body is too large.',
  414: 'The request line is too long.',
  415: 'This server does not serve files of this type.',
  416: 'The requested range is not satisfiable.',
  431: 'The request header fields are too large.',
  500: 'The server could not complete the request.',
  501: 'The server does not implement this feature of the request.',
  503: 'The server is too busy; try again later.',
  505: 'This server speaks HTTP/1.0 and HTTP/1.1 only.',
};

const pageCache = new Map<number, Buffer>();

/** The body of an error page for a status. */
export function errorPage(status: number): Buffer {
  let page = pageCache.get(status);
  if (!page) {
    const title = `${status} ${REASONS[status] ?? 'Error'}`;
    page = Buffer.from(
      `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n` +
        `<body><h1>${title}</h1><p>${EXPLAIN[status] ?? ''}</p><hr><address>web_sstt</address></body></html>\n`,
    );
    pageCache.set(status, page);
  }
  return page;
}

/** Escapes text for HTML (the client certificate's subject, the form's answer). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
