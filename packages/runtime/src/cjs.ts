// A CommonJS package loaded with import() (on first use, off the start-up path) reads the same
// from the sources and from an app's bundle (scripts/bundle.mjs): Node gives `module.exports` as
// the namespace's `default`, beside the names its lexer found; esbuild's bundle gives `default`
// alone. Reading `default` works in both.
export function commonJs<T>(namespace: T): T {
  return (namespace as { default?: T }).default ?? namespace;
}
