// The console's pages (Preact). Every view is a call of the JSON API and the one event stream;
// mail content is only ever put in the page as text (Preact escapes it), and the HTML part only
// in a sandboxed frame served with its own strict CSP. Each view is a file of views/.
import { render } from 'preact';
import { App } from './app.tsx';
import { connectLive } from './live.ts';
import './style.css';

connectLive();
const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" placeholder of index.html
render(<App />, root);
