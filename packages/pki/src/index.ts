// Placeholder until the PKI issue lands: the library API the apps use will live here.
export {};
