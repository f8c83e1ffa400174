package io.tollgate.listener;

import io.tollgate.config.ListenerConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a reload does to the bound listeners. Listeners are matched by name: one whose address is
 * unchanged stays bound, a new or moved one is bound, and one no longer in the config (or moved) is
 * closed. An address a listener gives up and another one takes (a rename, a swap) must be free
 * before it is bound again: those few are {@link #closeFirst}, the others close after the new ones
 * are bound.
 *
 * @param bind the listeners to bind, in config order
 * @param close the names of the bound listeners to close
 * @param closeFirst the names among {@code close} whose address a listener in {@code bind} takes
 */
record ListenerChanges(List<ListenerConfig> bind, List<String> close, List<String> closeFirst) {

  /**
   * @param bound the listeners bound now
   * @param wanted the new config's listeners
   */
  static ListenerChanges of(Collection<ListenerConfig> bound, List<ListenerConfig> wanted) {
    Map<String, ListenerConfig> now = new LinkedHashMap<>();
    bound.forEach(lc -> now.put(lc.name(), lc));
    Map<String, ListenerConfig> next = new LinkedHashMap<>();
    wanted.forEach(lc -> next.put(lc.name(), lc));
    List<ListenerConfig> bind =
        wanted.stream().filter(lc -> !sameAddress(now.get(lc.name()), lc)).toList();
    List<ListenerConfig> close =
        bound.stream().filter(lc -> !sameAddress(next.get(lc.name()), lc)).toList();
    List<String> closeFirst = new ArrayList<>();
    for (ListenerConfig old : close) {
      if (bind.stream().anyMatch(lc -> lc.address().equals(old.address()))) {
        closeFirst.add(old.name());
      }
    }
    return new ListenerChanges(bind, close.stream().map(ListenerConfig::name).toList(), closeFirst);
  }

  private static boolean sameAddress(ListenerConfig a, ListenerConfig b) {
    return a != null && a.address().equals(b.address());
  }

  ListenerChanges {
    bind = List.copyOf(bind);
    close = List.copyOf(close);
    closeFirst = List.copyOf(closeFirst);
  }
}
