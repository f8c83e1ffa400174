package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Records every callback so tests can check there was exactly one, and which. */
final class RecordingCallback implements ClientHelloInspector.HelloCallback {
  final List<ClientHello> hellos = new ArrayList<>();
  final List<HelloFailure> failures = new ArrayList<>();
  final List<String> details = new ArrayList<>();

  /** What {@link #onHello} does after recording, e.g. add a relay handler or close. */
  Consumer<ChannelHandlerContext> onHelloAction = ctx -> {};

  @Override
  public void onHello(ChannelHandlerContext ctx, ClientHello hello) {
    hellos.add(hello);
    onHelloAction.accept(ctx);
  }

  @Override
  public void onFailure(ChannelHandlerContext ctx, HelloFailure failure, String detail) {
    failures.add(failure);
    details.add(detail);
  }

  int calls() {
    return hellos.size() + failures.size();
  }

  ClientHello onlyHello() {
    assertThat(failures).as("failures %s", details).isEmpty();
    assertThat(hellos).hasSize(1);
    return hellos.get(0);
  }

  String onlyFailure(HelloFailure expected) {
    assertThat(hellos).isEmpty();
    assertThat(failures).as("failures %s", details).containsExactly(expected);
    return details.get(0);
  }
}
