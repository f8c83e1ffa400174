/**
 * A throwaway certificate authority for the demo and the tests: a root, intermediates and leaf
 * certificates with the names and key types asked for, written as PEM files and offered as JSSE key
 * and trust managers. Never used for anything a user serves in production; that is why it is a
 * module of its own, and why BouncyCastle's certificate builder is only needed here and in
 * lb-core's PEM and OCSP parsing.
 */
package io.tollgate.pki;
