/**
 * Active health checks and per-backend health state.
 *
 * <p>Empty until the health-check issue lands: pools in lb-core treat every server as up. The module
 * exists now so the dependency direction (lb-core depends on lb-health, never the reverse) is fixed
 * from the start.
 */
package io.tollgate.health;
