/**
 * The failure vocabulary shared by the data path (lb-core) and the health checks (lb-health), which
 * cannot depend on each other's code: {@link io.tollgate.net.FailureKind} classifies a connect,
 * socket or TLS exception once, {@link io.tollgate.net.Causes} walks the cause chain for the
 * message worth showing. Each caller words the kind its own way (a close reason and detail, a
 * passive-ejection reason, a probe's result). Depends on Netty only.
 */
package io.tollgate.net;
