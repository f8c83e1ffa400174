/**
 * {@link io.tollgate.Tollgate}: one running instance (event loops, the bound listeners, the
 * snapshot in force, the health checker) and its lifecycle: start, reload, drain, stop. Every stage
 * of the data path lives in a package named for it; this one only wires them together.
 */
package io.tollgate;
