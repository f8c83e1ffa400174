/**
 * The backends of {@code tollgate demo}: small HTTPS or plain HTTP servers on loopback that answer
 * with their name, the TLS version and the SNI they saw, so a user can tell passthrough from
 * offload with curl. Their certificates come from lb-pki's throwaway CA.
 */
package io.tollgate.demo;
