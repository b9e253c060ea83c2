// Placeholder until the PKI issue lands: `init` has nothing to mint yet.
console.log('pki: certificate minting is not implemented yet');
