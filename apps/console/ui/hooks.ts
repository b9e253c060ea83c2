// One API call as a component's state: its data or its error, reloaded on demand.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';

export function useApi<T>(path: string | undefined, deps: unknown[] = []): { data?: T; error?: string; loading: boolean; reload: () => void } {
  const [state, set] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [n, bump] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    set((s) => ({ ...s, loading: true }));
    api<T>(path).then(
      (data) => live && set({ data, loading: false }),
      (err: Error) => live && set({ error: err.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, n, ...deps]);
  return { ...state, reload: useCallback(() => bump((x) => x + 1), []) };
}
