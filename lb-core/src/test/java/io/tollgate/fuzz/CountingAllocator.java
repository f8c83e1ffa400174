package io.tollgate.fuzz;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

/**
 * An allocator that knows exactly how many bytes its buffers still hold, so a fuzz input can assert
 * that every buffer of its channel was released once the channel is gone. Exact and cheap, unlike
 * the paranoid leak detector, which samples stack traces on every access and only reports after a
 * garbage collection (it still watches everything else the tests allocate).
 */
final class CountingAllocator {
  /** No leak detector on these buffers: the byte count below is the check. */
  final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);

  /** A buffer holding {@code data[from, from + length)}, as a socket read would deliver it. */
  ByteBuf copy(byte[] data, int from, int length) {
    return alloc.heapBuffer(length, length).writeBytes(data, from, length);
  }

  /** Bytes held by buffers that have not been released yet. */
  long outstanding() {
    return alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory();
  }
}
