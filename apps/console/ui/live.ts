// The live stream: one EventSource for the whole page (GET /api/v1/events), its events typed by
// their declarations, handed to every view that listens.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveEvents } from './api.ts';

/** The events a view can listen to (hello and ping only say the stream is alive). */
type Name = 'message.new' | 'message.update' | 'message.delete' | 'session';
export type Live = { [K in Name]: { type: K; data: LiveEvents[K] } }[Name];
export type LiveState = 'connecting' | 'live' | 'offline';

const listeners = new Set<(e: Live) => void>();
let liveState: LiveState = 'connecting';
const stateListeners = new Set<(s: LiveState) => void>();

export function connectLive(): void {
  const es = new EventSource('/api/v1/events');
  const setState = (s: LiveState) => {
    liveState = s;
    for (const l of stateListeners) l(s);
  };
  es.addEventListener('hello', () => setState('live'));
  es.onerror = () => setState(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  for (const type of ['message.new', 'message.update', 'message.delete', 'session'] as const) {
    es.addEventListener(type, (ev) => {
      const e = { type, data: JSON.parse((ev as MessageEvent<string>).data) } as Live;
      for (const l of listeners) l(e);
    });
  }
}

/** Calls `fn` with every event while the component is on the page. */
export function useLive(fn: (e: Live) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const l = (e: Live) => ref.current(e);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
}

export function useLiveState(): LiveState {
  const [s, set] = useState(liveState);
  useEffect(() => {
    stateListeners.add(set);
    // The stream may have said hello between the first render and this effect (Preact runs
    // effects after the paint): without this the frame would say "connecting" for good.
    set(liveState);
    return () => void stateListeners.delete(set);
  }, []);
  return s;
}
