package io.tollgate.health;

/**
 * What the data path tells the health side about real connections. Called from the data-path event
 * loops, so implementations must be cheap and never block.
 */
public interface PassiveSignals {
  /** Ignores everything: for pools built without a {@link HealthChecker} (tests, {@code check}). */
  PassiveSignals NONE =
      new PassiveSignals() {
        @Override
        public void connectFailed(ServerState state, String why) {}

        @Override
        public void connectSucceeded(ServerState state) {}
      };

  /** Connecting to the server failed (refused, unreachable, timed out). */
  void connectFailed(ServerState state, String why);

  /** Connecting to the server succeeded. */
  void connectSucceeded(ServerState state);
}
