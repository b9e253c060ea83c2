// The small parts every view uses: an error, a loading line, an empty state.
import type { ComponentChildren } from 'preact';

export const ErrorBox = ({ error }: { error: string }) => (
  <p class="error" role="alert" data-testid="error">
    {error}
  </p>
);

export const Loading = ({ what }: { what: string }) => <p class="loading">Loading {what}…</p>;

export const Empty = ({ children }: { children: ComponentChildren }) => (
  <div class="empty" data-testid="empty">
    {children}
  </div>
);
