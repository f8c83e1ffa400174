#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz tests from the captured hellos, which live in lb-testkit
(lb-testkit/src/main/resources/io/tollgate/testkit/hellos) so the end-to-end tests replay them too.

Run from this directory: python3 make-corpus.py. Crash inputs Jazzer adds to the *Inputs
directories (named crash-<sha1>) are kept; only the files named here are rewritten.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
HELLO_DIR = os.path.join(HERE, 'ClientHelloFuzzTestInputs', 'clientHello')
PROXY_DIR = os.path.join(HERE, 'ProxyHeaderFuzzTestInputs', 'proxyHeaderThenHello')
CAPTURED_DIR = os.path.join(HERE, *(['..'] * 7), 'lb-testkit', 'src', 'main', 'resources', 'io',
                            'tollgate', 'testkit', 'hellos')


def captured(name):
    with open(os.path.join(CAPTURED_DIR, name), 'rb') as f:
        return f.read()


def message(records):
    """The handshake bytes carried by a sequence of handshake records."""
    out, pos = b'', 0
    while pos < len(records):
        length = struct.unpack('>H', records[pos + 3:pos + 5])[0]
        out += records[pos + 5:pos + 5 + length]
        pos += 5 + length
    return out


def reframe(msg, payload, version=b'\x03\x01'):
    out = b''
    for pos in range(0, len(msg), payload):
        part = msg[pos:pos + payload]
        out += b'\x16' + version + struct.pack('>H', len(part)) + part
    return out


def u16(v):
    return struct.pack('>H', v)


def hello(extensions, suites=b'\x13\x01\xc0\x2b', session=b''):
    body = b'\x03\x03' + bytes(32) + bytes([len(session)]) + session
    body += u16(len(suites)) + suites + b'\x01\x00'
    ext = b''.join(u16(t) + u16(len(d)) + d for t, d in extensions)
    body += u16(len(ext)) + ext
    return reframe(b'\x01' + struct.pack('>I', len(body))[1:] + body, 16384)


def sni(name):
    entry = b'\x00' + u16(len(name)) + name
    return (0, u16(len(entry)) + entry)


def alpn(*names):
    lst = b''.join(bytes([len(n)]) + n for n in names)
    return (16, u16(len(lst)) + lst)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


V2_SIG = b'\r\n\r\n\x00\r\nQUIT\n'


def v2(command, family, addresses, tlvs=b'', with_crc=False):
    if with_crc:
        tlvs += b'\x03' + u16(4) + bytes(4)
    header = V2_SIG + bytes([0x20 | command, family]) + u16(len(addresses) + len(tlvs))
    header += addresses + tlvs
    if with_crc:
        header = header[:-4] + struct.pack('>I', crc32c(header))
    return header


def tlv(kind, value):
    return bytes([kind]) + u16(len(value)) + value


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    assert len(data) < 4096, (name, len(data))
    with open(os.path.join(directory, name), 'wb') as f:
        f.write(data)


def main():
    openssl = captured('openssl-3.0-s_client.bin')
    openssl12 = captured('openssl-3.0-s_client-tls12.bin')
    boring = captured('boringssl-tcnative.bin')
    boring12 = captured('boringssl-tcnative-tls12.bin')
    jdk = captured('jdk17-tls13.bin')
    chromium = captured('chromium-156.bin')
    for name in os.listdir(os.path.join(HERE, 'captured')):
        write(HELLO_DIR, name, captured(name))

    write(HELLO_DIR, 'openssl-1-byte-records.bin', reframe(message(openssl), 1))
    write(HELLO_DIR, 'jdk-7-byte-records-then-data.bin',
          reframe(message(jdk), 7) + b'\x17\x03\x03\x00\x05early')
    chromium_msg = message(chromium)
    write(HELLO_DIR, 'chromium-2-records.bin', reframe(chromium_msg, 700, b'\x03\x03'))
    write(HELLO_DIR, 'chromium-truncated.bin', chromium[:1000])
    write(HELLO_DIR, 'boringssl-hello-then-second-handshake-message.bin',
          reframe(message(boring) + b'\x0b\x00\x00\x00', 16384))
    write(HELLO_DIR, 'plaintext-http.bin', b'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n')
    write(HELLO_DIR, 'sslv2-compatible-hello.bin',
          b'\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10' + bytes(21) + bytes(16))
    write(HELLO_DIR, 'alert-record.bin', b'\x15\x03\x03\x00\x02\x02\x28')
    write(HELLO_DIR, 'zero-length-record.bin', b'\x16\x03\x01\x00\x00')
    write(HELLO_DIR, 'declares-64k.bin', b'\x16\x03\x01\x00\x04\x01\x00\xff\xff')
    write(HELLO_DIR, 'record-over-2-14.bin', b'\x16\x03\x01\x40\x01\x01')
    write(HELLO_DIR, 'sni-with-escape-sequence.bin', hello([sni(b'a\x1b[31m.test\r\n')]))
    write(HELLO_DIR, 'sni-ip-literal.bin', hello([sni(b'192.0.2.1'), alpn(b'h2')]))
    write(HELLO_DIR, 'duplicate-extension.bin', hello([sni(b'a.test'), sni(b'b.test')]))
    write(HELLO_DIR, 'session-id-33.bin', hello([sni(b'a.test')], session=bytes(33)))
    write(HELLO_DIR, 'many-alpn-names.bin',
          hello([sni(b'alpn.test'), alpn(*[bytes([0x61 + i % 26, 0x30 + i % 10])
                                           for i in range(600)])]))
    write(HELLO_DIR, 'grease-only-versions.bin',
          hello([sni(b'g.test'), (43, b'\x04\x0a\x0a\x1a\x1a'), (0x0a0a, b'')]))

    tcp4 = b'PROXY TCP4 198.51.100.7 203.0.113.1 51000 443\r\n'
    write(PROXY_DIR, 'v1-tcp4-openssl.bin', tcp4 + openssl)
    write(PROXY_DIR, 'v1-tcp4-openssl-1-byte-records.bin', tcp4 + reframe(message(openssl), 1)[:2000])
    write(PROXY_DIR, 'v1-tcp6-jdk.bin', b'PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n' + jdk)
    write(PROXY_DIR, 'v1-unknown-boringssl12.bin', b'PROXY UNKNOWN ignored stuff\r\n' + boring12)
    write(PROXY_DIR, 'v1-no-crlf.bin', b'PROXY TCP4 ' + b'1' * 120)
    write(PROXY_DIR, 'v1-bare-lf.bin', b'PROXY TCP4 198.51.100.7 203.0.113.1 51000 443\n' + jdk)
    write(PROXY_DIR, 'v1-cr-inside-the-line.bin',
          b'PROXY TCP4 198.51.100.7\r 203.0.113.1 51000 443\r\n' + jdk)
    write(PROXY_DIR, 'v1-port-leading-zero.bin',
          b'PROXY TCP4 198.51.100.7 203.0.113.1 051000 443\r\n' + jdk)
    addr4 = bytes([198, 51, 100, 7, 203, 0, 113, 1]) + u16(51000) + u16(443)
    write(PROXY_DIR, 'v2-tcp4-tlvs-crc32c-openssl.bin',
          v2(1, 0x11, addr4, tlv(2, b'shop.test') + tlv(5, b'conn-1') + tlv(4, b''), True)
          + openssl)
    write(PROXY_DIR, 'v2-tcp4-crc32c-mismatch.bin',
          v2(1, 0x11, addr4, tlv(3, b'\x00\x00\x00\x01')) + openssl12)
    addr6 = bytes.fromhex('20010db8000000000000000000000007') \
        + bytes.fromhex('20010db8000000000000000000000001') + u16(51000) + u16(443)
    write(PROXY_DIR, 'v2-tcp6-chromium.bin', v2(1, 0x21, addr6) + chromium)
    write(PROXY_DIR, 'v2-local-boringssl.bin', v2(0, 0x00, b'') + boring)
    write(PROXY_DIR, 'v2-unix-jdk.bin', v2(1, 0x31, bytes(216)) + jdk)
    write(PROXY_DIR, 'v2-unspec-jdk.bin', v2(1, 0x00, b'', tlv(0xE0, b'x' * 20)) + jdk)
    write(PROXY_DIR, 'v2-tlv-runs-past-end.bin', v2(1, 0x11, addr4, b'\x02\x00\x09ab') + jdk)
    write(PROXY_DIR, 'v2-declares-64k.bin', V2_SIG + b'\x21\x11\xff\xff' + addr4)
    write(PROXY_DIR, 'no-header-openssl.bin', openssl)
    write(PROXY_DIR, 'no-header-http.bin', b'GET / HTTP/1.1\r\n\r\n')


if __name__ == '__main__':
    main()
