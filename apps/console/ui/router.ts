// Routing on the URL's fragment: #/mail/<user>/<id>, #/sessions/<id>, #/dns, #/certs,
// #/compose?reply=<id>.
import { useEffect, useState } from 'preact/hooks';

export function useRoute(): { parts: string[]; params: URLSearchParams } {
  const read = () => {
    const h = location.hash.replace(/^#\/?/, '');
    const [p, q] = h.split('?');
    return { parts: (p ?? '').split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q ?? '') };
  };
  const [r, set] = useState(read);
  useEffect(() => {
    const on = () => set(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

export const go = (hash: string) => {
  location.hash = hash;
};
