package io.tollgate.handshake;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Work waiting per route: a FIFO per route, taken one item per route in turn, so a flooded route's
 * queue delays another route's next item by one item, not by its length. Routes with nothing
 * waiting are forgotten (ten thousand tenants keep only the busy ones here). Not thread-safe: the
 * owner confines or locks it.
 */
final class RoundRobinByRoute<T> {
  private final Map<String, RouteQueue<T>> byRoute = new HashMap<>();
  private final ArrayDeque<RouteQueue<T>> ring = new ArrayDeque<>();

  /** Queues {@code item} behind {@code route}'s earlier ones. */
  void add(String route, T item) {
    RouteQueue<T> q = byRoute.get(route);
    if (q == null) {
      q = new RouteQueue<>(route);
      byRoute.put(route, q);
      ring.addLast(q);
    }
    q.addLast(item);
  }

  /** The next route's oldest item, or {@code null} when nothing waits. */
  T poll() {
    RouteQueue<T> q = ring.pollFirst();
    if (q == null) {
      return null;
    }
    T item = q.pollFirst();
    if (q.isEmpty()) {
      byRoute.remove(q.route);
    } else {
      ring.addLast(q);
    }
    return item;
  }

  /**
   * Offers the next route's oldest item to {@code taker}; takes it out (and moves on to the next
   * route) only if the taker accepted it.
   */
  boolean pollIf(Predicate<T> taker) {
    RouteQueue<T> q = ring.peekFirst();
    if (q == null || !taker.test(q.peekFirst())) {
      return false;
    }
    ring.pollFirst();
    q.pollFirst();
    if (q.isEmpty()) {
      byRoute.remove(q.route);
    } else {
      ring.addLast(q);
    }
    return true;
  }

  boolean isEmpty() {
    return ring.isEmpty();
  }

  /** Items waiting, over every route. */
  int size() {
    int n = 0;
    for (RouteQueue<T> q : ring) {
      n += q.size();
    }
    return n;
  }

  /** Routes with items waiting. */
  int routes() {
    return byRoute.size();
  }

  private static final class RouteQueue<T> extends ArrayDeque<T> {
    final String route;

    RouteQueue(String route) {
      super(4);
      this.route = route;
    }
  }
}
