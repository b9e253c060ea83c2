// @sstt/cli: `npx sstt trust | untrust | resolve [--undo]`, this machine using the domain.
export { trust, untrust, ownerOf } from './trust.ts';
export type { HostCommandOptions } from './trust.ts';
export {
  resolve,
  unresolve,
  resolvePlan,
  chooseMethod,
  resolverFacts,
  networkManagerDns,
  hostsBlock,
  addressNames,
  withoutBlock,
  RESOLVE_METHODS,
} from './resolve.ts';
export type { ResolverFacts, ResolvePlan } from './resolve.ts';
export { loadLabCa, derSha256, pemCertificates } from './ca.ts';
export type { LabCa } from './ca.ts';
export { HostError } from './errors.ts';
export { invokerFrom, asInvoker } from './invoker.ts';
export type { Invoker } from './invoker.ts';
export { HOST_PATHS, anchorFile, caNickname } from './paths.ts';
export type { HostPaths } from './paths.ts';
export { hostStatePath, hostSetup, readHostState, HostStateFile } from './state.ts';
export type { Change, HostState, ResolveMethod } from './state.ts';
export { nssDatabases, profilesUnder, parseCertList, chromiumDb, NssTools } from './nss.ts';
export { keytoolArgv, keytoolFingerprints, cacertsOf, CACERTS_PASSWORD } from './java.ts';
export { systemTool, refreshArgv } from './system-store.ts';
