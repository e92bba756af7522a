#!/usr/bin/env python3
"""make-samples.py - write the tlsdiag sample captures.

Real TLS handshakes are run in-process: a client and a server ssl.SSLObject
(libssl through the standard library) exchange bytes through memory BIOs. No
sockets, no root. Whatever libssl puts in a peer's outgoing BIO after one step
is one TCP send; the script wraps those sends in synthetic but correct
Ethernet/IPv4 (or IPv6)/TCP framing (three-way handshake, seq/ack, checksums,
segmentation at the MSS, ACKs, FIN or RST) and writes pcap/pcapng files.

For each capture it also writes
  <name>.keylog         the client's SSLKEYLOGFILE
  <name>.server.keylog  the server's, for the samples made for decryption tests
  <name>.facts.json     what the generator did: frames, versions, alerts, ...

Needs the keys from make-certs.sh. Usage:

    samples/make-certs.sh && python3 samples/make-samples.py
    python3 samples/make-samples.py NAME...    # only these scenarios (see ONE_BY_ONE)

Standard library only (plus the openssl CLI, used to map OpenSSL cipher names
to IANA names and to double-check the RSA key-mismatch sample).
"""

import atexit
import ctypes
import ctypes.util
import ipaddress
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")


# Python's ssl module cannot set the TLS 1.3 cipher suites
# (SSL_CTX_set_ciphersuites). The OpenSSL configuration can: libssl reads it
# when it initialises, so it has to be in place before `import ssl`. The order
# puts TLS_AES_128_GCM_SHA256 first; the server (which uses its own preference)
# therefore picks it, while the client still offers all three suites.
# Nothing that initialises libcrypto (hashlib, hmac, ssl) may be imported
# before this.
#
# The configuration holds for the whole process, so a scenario that needs
# other TLS 1.3 suites runs in a child process of this script with
# TLS13_SUITES_ENV set to its list (see in_child_with_tls13_suites).
TMP = tempfile.mkdtemp(prefix="tlsdiag-samples-")
atexit.register(shutil.rmtree, TMP, True)
TLS13_SUITES_ENV = "TD_SAMPLES_TLS13_CIPHERSUITES"
TLS13_SUITES_DEFAULT = ("TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                        "TLS_CHACHA20_POLY1305_SHA256")


def _openssl_conf_for_tls13():
    path = os.path.join(TMP, "openssl.cnf")
    suites = os.environ.get(TLS13_SUITES_ENV, TLS13_SUITES_DEFAULT)
    with open(path, "w") as f:
        f.write(
            "openssl_conf = openssl_init\n"
            "[openssl_init]\n"
            "ssl_conf = ssl_module\n"
            "[ssl_module]\n"
            "system_default = tls_defaults\n"
            "[tls_defaults]\n"
            "Ciphersuites = %s\n" % suites)
    return path


os.environ["OPENSSL_CONF"] = _openssl_conf_for_tls13()
import hashlib  # noqa: E402  (these must come after OPENSSL_CONF is set)
import hmac  # noqa: E402
import ssl  # noqa: E402

# TLS 1.0 and 1.1 are deprecated in Python's ssl; the samples use them on purpose
warnings.filterwarnings("ignore", "ssl.TLSVersion.TLSv1", DeprecationWarning)


# ---------------------------------------------------------------------------
# Constants

CLIENT_V4, SERVER_V4 = "10.0.0.1", "10.0.0.2"
CLIENT_V6, SERVER_V6 = "2001:db8::1", "2001:db8::2"
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
SERVER_PORT = 443

MSS_V4 = 1448          # 1500 - 20 (IPv4) - 20 (TCP) - 12 (timestamps option)
MSS_V6 = 1428          # 1500 - 40 (IPv6) - 20 (TCP) - 12 (timestamps option)

# Time between packets, in microseconds.
GAP_SAME = 260         # next segment from the same sender
GAP_ACK = 180          # an immediate ACK after a segment
GAP_TURN = 1150        # the other side answers (network + processing)

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# What the server sends from server.example-chain.pem (files in keys/)
SERVER_CHAIN = ["server.example.pem", "intermediate-ca.pem"]
SSL_OP_NO_ENCRYPT_THEN_MAC = 0x00080000    # OpenSSL 3 (ssl.h); not in Python's ssl

HTTP_REQUEST = (b"GET / HTTP/1.1\r\nHost: server.example\r\n"
                b"User-Agent: tlsdiag-samples\r\nAccept: */*\r\n\r\n")
HTTP_BODY = b"<html><body>hello from server.example</body></html>\n"
HTTP_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                 % len(HTTP_BODY)) + HTTP_BODY

# SSL_shutdown's alert, as libssl sends it (and the peer reads it as the
# end of data, which close_notify() checks)
CLOSE_NOTIFY = ("warning", "close_notify")

ALERT_NAMES = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
               21: "decryption_failed", 22: "record_overflow",
               40: "handshake_failure", 42: "bad_certificate",
               43: "unsupported_certificate", 44: "certificate_revoked",
               45: "certificate_expired", 46: "certificate_unknown",
               47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
               50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
               71: "insufficient_security", 80: "internal_error",
               86: "inappropriate_fallback", 90: "user_canceled",
               109: "missing_extension", 110: "unsupported_extension",
               112: "unrecognized_name", 116: "certificate_required",
               120: "no_application_protocol"}


def key_path(name):
    return os.path.join(KEYS, name)


def other_side(side):
    return "server" if side == "client" else "client"


# ---------------------------------------------------------------------------
# IP / TCP framing

def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_segment(src, dst, sport, dport, seq, ack, flags, window, options,
                payload):
    """A TCP header + payload with a correct checksum. src/dst are packed
    IPv4 or IPv6 addresses (they select the pseudo-header)."""
    assert len(options) % 4 == 0
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                         ack & 0xFFFFFFFF, offset << 4, flags, window, 0, 0)
    segment = header + options + payload
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(segment))
    else:
        pseudo = src + dst + struct.pack("!I3xB", len(segment), 6)
    csum = inet_checksum(pseudo + segment)
    return segment[:16] + struct.pack("!H", csum) + segment[18:]


def ipv4_packet(src, dst, ident, payload, ttl=64):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                         0x4000, ttl, 6, 0, src, dst)          # DF set
    csum = inet_checksum(header)
    return header[:10] + struct.pack("!H", csum) + header[12:] + payload


def ipv6_packet(src, dst, flow_label, payload, hop_limit=64):
    return struct.pack("!IHBB16s16s", (6 << 28) | flow_label, len(payload), 6,
                       hop_limit, src, dst) + payload


# ---------------------------------------------------------------------------
# Link layers: one function per framing. Each takes (packet, side) where side
# is who sent it; the capture point is the client host.

def ethertype_of(ip):
    return 0x86DD if ip[0] >> 4 == 6 else 0x0800


def macs(side):
    return (CLIENT_MAC, SERVER_MAC) if side == "client" else (SERVER_MAC, CLIENT_MAC)


def frame_ethernet(ip, side):
    src, dst = macs(side)
    return dst + src + struct.pack("!H", ethertype_of(ip)) + ip


def frame_vlan(ip, side, vlan=100):
    src, dst = macs(side)
    return dst + src + struct.pack("!HHH", 0x8100, vlan & 0x0FFF,
                                   ethertype_of(ip)) + ip


def frame_sll(ip, side):
    # Linux cooked capture v1: packet type (0 = to us, 4 = sent by us),
    # ARPHRD_ETHER, address length, sender address padded to 8, protocol.
    pkttype = 4 if side == "client" else 0
    src, _ = macs(side)
    return struct.pack("!HHH8sH", pkttype, 1, 6, src, ethertype_of(ip)) + ip


def frame_null(ip, side):
    # BSD loopback: the address family in the capturing host's byte order.
    # The pcap files are written little-endian, so is the AF value.
    family = 2 if ip[0] >> 4 == 4 else 30           # AF_INET (AF_INET6 unused)
    return struct.pack("<I", family) + ip


def frame_raw(ip, side):
    return ip


# ---------------------------------------------------------------------------
# File formats

def write_pcap(path, linktype, frames):
    """frames: list of (timestamp_us, bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, data in frames:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000,
                                len(data), len(data)))
            f.write(data)


def pcapng_block(block_type, body):
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def pcapng_option(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def write_pcapng(path, linktype, frames):
    """SHB, one IDB (microsecond timestamps), one EPB per frame."""
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb += pcapng_option(4, b"tlsdiag samples/make-samples.py")  # shb_userappl
    shb += pcapng_option(0, b"")
    idb = struct.pack("<HHI", linktype, 0, 262144)
    idb += pcapng_option(2, b"eth0")                                 # if_name
    idb += pcapng_option(9, bytes([6]))                              # if_tsresol
    idb += pcapng_option(0, b"")
    with open(path, "wb") as f:
        f.write(pcapng_block(0x0A0D0D0A, shb))
        f.write(pcapng_block(0x00000001, idb))
        for ts, data in frames:
            epb = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                              len(data), len(data)) + data
            f.write(pcapng_block(0x00000006, epb))


# ---------------------------------------------------------------------------
# TCP connection simulator

class Endpoint:
    def __init__(self, name, ip, port, isn, ip_id, ts_base, window):
        self.name = name
        self.ip_text = ip
        self.ip = ipaddress.ip_address(ip).packed
        self.port = port
        self.isn = isn
        self.snd_nxt = isn
        self.rcv_nxt = 0              # next in-order sequence number expected
        self.ooo = {}                 # out-of-order segments held: seq -> length
        self.unacked = 0              # segments received since our last ACK
        self.ip_id = ip_id
        self.ts_base = ts_base
        self.ts_recent = 0            # peer's latest TSval (our TSecr)
        self.window = window


class Packet:
    def __init__(self, ts, side, ip, flags):
        self.ts = ts                  # capture time, microseconds since the epoch
        self.side = side              # sender: "client" or "server"
        self.ip = ip                  # the whole IP packet
        self.flags = flags


class TcpConnection:
    """One TCP connection, written packet by packet as a capture on the
    client host would show it. Deterministic: ISNs, IP IDs and TCP timestamps
    are derived from the client port."""

    def __init__(self, client_port, v6=False, server_port=SERVER_PORT, start=None):
        self.v6 = v6
        self.mss = MSS_V6 if v6 else MSS_V4
        p = client_port
        self.ends = {
            "client": Endpoint("client", CLIENT_V6 if v6 else CLIENT_V4, p,
                               isn=(0x1F3A0000 + p * 7919) & 0xFFFFFFFF,
                               ip_id=(0x2000 + p) & 0xFFFF,
                               ts_base=3000000000 + p, window=502),
            "server": Endpoint("server", SERVER_V6 if v6 else SERVER_V4,
                               server_port,
                               isn=(0x9C410000 + p * 104729) & 0xFFFFFFFF,
                               ip_id=(0x6000 + p) & 0xFFFF,
                               ts_base=1200000000 + p, window=509),
        }
        # start: when the SYN goes out (a later connection of the same
        # capture starts after the one before it)
        self.start = int(time.time() * 1000000) if start is None else start
        self.now = self.start
        self.packets = []
        self.streams = {"client": bytearray(), "server": bytearray()}
        # (stream offset, length, frame number) for every data segment
        self.segments = {"client": [], "server": []}

    # -- low level --------------------------------------------------------

    def _build(self, side, flags, payload, seq, at):
        """The IP packet `side` sends at time `at` (which sets its TCP
        timestamp; the capture time is decided when it is put on the wire),
        and its TSval."""
        ep, peer = self.ends[side], self.ends[other_side(side)]
        syn = bool(flags & TCP_SYN)
        tsval = (ep.ts_base + (at - self.start) // 1000) & 0xFFFFFFFF
        tsecr = 0 if syn and side == "client" else ep.ts_recent
        ts = struct.pack("!BBII", 8, 10, tsval, tsecr)
        if syn:   # MSS, NOP, window scale 7, NOP, NOP, timestamps
            options = (struct.pack("!BBH", 2, 4, self.mss + 12) + b"\x01" +
                       struct.pack("!BBB", 3, 3, 7) + b"\x01\x01" + ts)
        else:     # NOP, NOP, timestamps
            options = b"\x01\x01" + ts
        ack = ep.rcv_nxt if flags & TCP_ACK else 0
        window = 64240 if syn else ep.window
        seg = tcp_segment(ep.ip, peer.ip, ep.port, peer.port, seq, ack, flags,
                          window, options, payload)
        if flags & TCP_ACK:
            ep.unacked = 0
        if self.v6:
            label = 0x3A5C1 if side == "client" else 0x7E29D
            return ipv6_packet(ep.ip, peer.ip, label, seg), tsval
        ip = ipv4_packet(ep.ip, peer.ip, ep.ip_id, seg)
        ep.ip_id = (ep.ip_id + 1) & 0xFFFF
        return ip, tsval

    def _put(self, side, ip, tsval, flags, gap):
        """Put a packet on the wire `gap` microseconds after the last one."""
        self.now += gap if self.packets else 0
        self.packets.append(Packet(self.now, side, ip, flags))
        self.ends[other_side(side)].ts_recent = tsval

    def _emit(self, side, flags, gap=GAP_SAME):
        """A packet without payload, sent now."""
        at = self.now + (gap if self.packets else 0)
        ip, tsval = self._build(side, flags, b"", self.ends[side].snd_nxt, at)
        self._put(side, ip, tsval, flags, gap)

    def _arrive(self, side, seq, length):
        """The peer of `side` receives a segment; returns True if it answers
        with an immediate ACK (every second segment, a segment beyond a hole,
        one that fills a hole, a duplicate: RFC 5681 4.2)."""
        rcv = self.ends[other_side(side)]
        end = (seq + length) & 0xFFFFFFFF
        if seq == rcv.rcv_nxt:
            rcv.rcv_nxt = end
            filled_gap = bool(rcv.ooo)
            while rcv.rcv_nxt in rcv.ooo:
                rcv.rcv_nxt = (rcv.rcv_nxt + rcv.ooo.pop(rcv.rcv_nxt)) & 0xFFFFFFFF
            rcv.unacked += 1
            return rcv.unacked >= 2 or filled_gap
        if ((seq - rcv.rcv_nxt) & 0xFFFFFFFF) < 0x80000000:   # beyond a hole
            rcv.ooo[seq] = length
        return True                                            # dup ACK

    # -- what the scenarios use -------------------------------------------

    def open(self):
        c, s = self.ends["client"], self.ends["server"]
        self._emit("client", TCP_SYN)
        c.snd_nxt += 1
        s.rcv_nxt = c.snd_nxt
        self._emit("server", TCP_SYN | TCP_ACK, gap=GAP_TURN)
        s.snd_nxt += 1
        c.rcv_nxt = s.snd_nxt
        self._emit("client", TCP_ACK, gap=GAP_TURN)

    def send(self, side, data, order=None, retransmit=None, gap=GAP_TURN):
        """One application write of `data`, segmented at the MSS. `order` is
        the order in which the segments reach the wire (default: as sent);
        `retransmit` is the index of a segment sent again, as an exact copy,
        once the flight is over. The peer ACKs as _arrive() says."""
        ep = self.ends[side]
        offset0 = len(self.streams[side])
        chunks = [data[i:i + self.mss] for i in range(0, len(data), self.mss)]
        order = list(range(len(chunks))) if order is None else order
        assert sorted(order) == list(range(len(chunks))), (order, len(chunks))
        built = []          # (seq, flags, payload, (ip, tsval)) in sending order
        t = self.now + gap
        for i, chunk in enumerate(chunks):
            seq = (ep.snd_nxt + i * self.mss) & 0xFFFFFFFF
            flags = TCP_ACK | (TCP_PSH if i == len(chunks) - 1 else 0)
            built.append((seq, flags, chunk,
                          self._build(side, flags, chunk, seq, t + i * GAP_SAME)))
        ep.snd_nxt = (ep.snd_nxt + len(data)) & 0xFFFFFFFF
        self.streams[side] += data
        wire = [(i, gap if n == 0 else GAP_SAME) for n, i in enumerate(order)]
        if retransmit is not None:
            wire.append((retransmit, 3 * GAP_TURN))
        for i, delay in wire:
            seq, flags, chunk, (ip, tsval) = built[i]
            self._put(side, ip, tsval, flags, delay)
            self.segments[side].append((offset0 + i * self.mss, len(chunk),
                                        len(self.packets)))
            if self._arrive(side, seq, len(chunk)):
                self._emit(other_side(side), TCP_ACK, gap=GAP_ACK)

    def ack(self, side, gap=GAP_TURN):
        """A pure ACK if `side` has received anything it has not ACKed."""
        if self.ends[side].unacked:
            self._emit(side, TCP_ACK, gap=gap)

    def fin(self, side, gap=GAP_TURN):
        ep = self.ends[side]
        self._emit(side, TCP_FIN | TCP_ACK, gap=gap)
        self._arrive(side, ep.snd_nxt, 1)
        ep.snd_nxt = (ep.snd_nxt + 1) & 0xFFFFFFFF

    def rst(self, side, gap=GAP_TURN):
        self._emit(side, TCP_RST | TCP_ACK, gap=gap)

    # -- queries ------------------------------------------------------------

    def frame_of(self, side, offset):
        """Frame number (from 1) of the first packet, in file order, whose
        payload carries byte `offset` of `side`'s stream."""
        hits = [f for (o, n, f) in self.segments[side] if o <= offset < o + n]
        return min(hits)

    def ending(self):
        for pkt in self.packets:
            if pkt.flags & TCP_RST:
                return "rst", pkt.side
            if pkt.flags & TCP_FIN:
                return "fin", pkt.side
        return "end_of_capture", None


# ---------------------------------------------------------------------------
# TLS record helpers

def split_records(data):
    """[(type, version, body)] for a byte string made of whole records."""
    out, i = [], 0
    while i < len(data):
        ctype, version, length = struct.unpack("!BHH", data[i:i + 5])
        body = data[i + 5:i + 5 + length]
        assert len(body) == length, "partial record"
        out.append((ctype, version, body))
        i += 5 + length
    return out


def split_handshake(body):
    """[(type, message bytes incl. header)] for a record body made of whole
    handshake messages."""
    out, i = [], 0
    while i < len(body):
        mtype = body[i]
        length = int.from_bytes(body[i + 1:i + 4], "big")
        assert i + 4 + length <= len(body), "handshake message spans records"
        out.append((mtype, body[i:i + 4 + length]))
        i += 4 + length
    return out


def u24(n):
    return n.to_bytes(3, "big")


def certificate_message(ders):
    """A TLS 1.2 Certificate handshake message carrying `ders`."""
    certs = b"".join(u24(len(d)) + d for d in ders)
    body = u24(len(certs)) + certs
    return bytes([11]) + u24(len(body)) + body


def certificates_in(records):
    """DER certificates of the first clear TLS 1.2 Certificate message."""
    for ctype, _, body in records:
        if ctype != 22:
            continue
        for mtype, msg in safe_split(body):      # (encrypted records: none)
            if mtype == 11:
                lst, i, ders = msg[7:], 0, []
                while i < len(lst):
                    n = int.from_bytes(lst[i:i + 3], "big")
                    ders.append(lst[i + 3:i + 3 + n])
                    i += 3 + n
                return ders
    return []


VERSION_NAMES = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
# what SSLObject.version() says
PY_VERSION_NAMES = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2",
                    "TLSv1.3": "TLS 1.3"}


def parse_server_hello(msg):
    """(version, cipher code, ALPN protocol or None) from a ServerHello."""
    body = msg[4:]
    version = struct.unpack("!H", body[0:2])[0]
    sid_len = body[34]
    i = 35 + sid_len
    cipher = struct.unpack("!H", body[i:i + 2])[0]
    i += 3                                   # cipher suite, compression method
    alpn = None
    if i < len(body):
        ext_end = i + 2 + struct.unpack("!H", body[i:i + 2])[0]
        i += 2
        while i < ext_end:
            etype, elen = struct.unpack("!HH", body[i:i + 4])
            ext = body[i + 4:i + 4 + elen]
            if etype == 43:                  # supported_versions
                version = struct.unpack("!H", ext)[0]
            elif etype == 16:                # ALPN: list length, name length, name
                alpn = ext[3:3 + ext[2]].decode()
            i += 4 + elen
    return VERSION_NAMES[version], cipher, alpn


def _extension_types(body, i):
    """Extension types of a hello whose extensions block starts at i."""
    types = []
    if i < len(body):
        ext_end = i + 2 + struct.unpack("!H", body[i:i + 2])[0]
        i += 2
        while i < ext_end:
            etype, elen = struct.unpack("!HH", body[i:i + 4])
            types.append(etype)
            i += 4 + elen
    return types


def server_hello_extensions(msg):
    """Extension types of a ServerHello message, in order."""
    body = msg[4:]
    return _extension_types(body, 35 + body[34] + 3)


def client_hello_extensions(msg):
    """Extension types of a ClientHello message, in order."""
    body = msg[4:]
    i = 35 + body[34]                                  # version, random, session id
    i += 2 + struct.unpack("!H", body[i:i + 2])[0]     # cipher suites
    i += 1 + body[i]                                   # compression methods
    return _extension_types(body, i)


EXT_ENCRYPT_THEN_MAC = 0x0016      # RFC 7366
EXT_EXTENDED_MASTER_SECRET = 0x0017  # RFC 7627


def load_der(pem_file):
    with open(key_path(pem_file)) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def openssl_cipher_table():
    """{OpenSSL name or hex code: IANA name} from the openssl CLI."""
    out = subprocess.run(["openssl", "ciphers", "-stdname", "-V",
                          "ALL:@SECLEVEL=0"], check=True, capture_output=True,
                         text=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[1] != "-" or parts[3] != "-":
            continue
        code = int(parts[0].replace(",0x", ""), 16)
        table[parts[4]] = parts[2]
        table[code] = parts[2]
    return table


CIPHERS = openssl_cipher_table()


# ---------------------------------------------------------------------------
# TLS over the simulated TCP connection

class TlsSession:
    """A client and a server SSLObject connected through memory BIOs, with
    every flight written to a TcpConnection."""

    def __init__(self, tcp, client_ctx, server_ctx, sni, tls13, session=None):
        self.tcp = tcp
        self.tls13 = tls13
        self.sni = sni
        self.bio_in = {"client": ssl.MemoryBIO(), "server": ssl.MemoryBIO()}
        self.bio_out = {"client": ssl.MemoryBIO(), "server": ssl.MemoryBIO()}
        self.obj = {
            "client": client_ctx.wrap_bio(self.bio_in["client"],
                                          self.bio_out["client"],
                                          server_side=False,
                                          server_hostname=sni,
                                          session=session),
            "server": server_ctx.wrap_bio(self.bio_in["server"],
                                          self.bio_out["server"],
                                          server_side=True),
        }
        self.done = {"client": False, "server": False}
        self.error = {"client": None, "server": None}
        # every record sent: (side, stream offset, type, body, alert_flush);
        # alert_flush is False, True (a flight libssl wrote for an alert), or
        # (level, description) when the script knows what that alert is
        self.records = []
        # every flight (one TCP send): (side, index of its first record in
        # self.records, index after its last)
        self.flights = []
        # optional hooks: side -> fn(flight) returning the bytes to send
        # instead, or None to leave this flight alone (the hook then stays)
        self.rewrite = {}
        self.send_options = {}       # optional TCP trouble for the next flight

    def flush(self, side, alert=False):
        """Move what libssl wrote for `side` onto the wire (one TCP send) and
        into the peer's incoming BIO. Returns the bytes sent. `alert` marks a
        flight written for an alert: True, or (level, description) when the
        alert is known even though it goes out encrypted."""
        data = self.bio_out[side].read()
        if not data:
            return b""
        if side in self.rewrite:
            new = self.rewrite[side](data)
            if new is not None:
                data = new
                del self.rewrite[side]
        offset = len(self.tcp.streams[side])
        first = len(self.records)
        for ctype, _, body in split_records(data):
            self.records.append((side, offset, ctype, body, alert))
            offset += 5 + len(body)
        self.flights.append((side, first, len(self.records)))
        self.tcp.send(side, data, **self.send_options.pop(side, {}))
        self.bio_in[other_side(side)].write(data)
        return data

    def handshake_step(self, side):
        try:
            self.obj[side].do_handshake()
            self.done[side] = True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            self.error[side] = e
        sent = self.flush(side, alert=self.error[side] is not None)
        if not sent and not self.done[side] and not self.error[side]:
            self.tcp.ack(side)       # waiting for the peer: ACK what came in
        return sent

    def handshake(self):
        """Alternate the peers until the client has finished its handshake
        or one peer failed and the other one has seen the result."""
        side = "client"
        for _ in range(12):
            self.handshake_step(side)
            if self.error["client"] or self.error["server"]:
                self.handshake_step(other_side(side))
                return False
            if self.done["client"]:
                return True
            side = other_side(side)
        raise RuntimeError("handshake did not converge")

    def read_all(self, side, n):
        got = b""
        while len(got) < n:
            got += self.obj[side].read(n - len(got))
        return got

    def exchange(self, request, response):
        self.obj["client"].write(request)
        self.flush("client")
        if not self.done["server"]:          # TLS 1.3: client Finished, tickets
            self.handshake_step("server")
        assert self.read_all("server", len(request)) == request
        self.obj["server"].write(response)
        self.flush("server")
        assert self.read_all("client", len(response)) == response

    def close_notify(self, first="client"):
        """close_notify from `first`, answered by the peer."""
        second = other_side(first)
        try:
            self.obj[first].unwrap()
        except ssl.SSLWantReadError:
            pass
        self.flush(first, alert=CLOSE_NOTIFY)
        try:     # libssl reports the peer's close_notify as end of data
            assert self.obj[second].read(1) == b"", "expected close_notify"
        except ssl.SSLZeroReturnError:
            pass
        self.obj[second].unwrap()
        self.flush(second, alert=CLOSE_NOTIFY)
        self.obj[first].unwrap()     # returns only once it read the close_notify

    # -- facts ----------------------------------------------------------------

    def server_hello(self):
        msg = self.hello("server")
        return parse_server_hello(msg) if msg else None

    def hello(self, side):
        """The ClientHello (side "client") or ServerHello message."""
        want = 1 if side == "client" else 2
        for sd, _, ctype, body, _ in self.records:
            if sd == side and ctype == 22 and body[0] == want:
                return split_handshake(body)[0][1]
        return None

    def finished_record(self, side):
        """(stream offset, record index) of `side`'s first Finished: the last
        record of its first flight holding a ChangeCipherSpec (TLS 1.2:
        [ClientKeyExchange,] CCS, Finished or [NewSessionTicket,] CCS,
        Finished; TLS 1.3: [ServerHello,] CCS, encrypted handshake records,
        Finished last, as libssl writes each message in a record of its
        own). None when that side never sent one."""
        # TLS 1.3: the first flight of this side with a protected record
        # (after a HelloRetryRequest the first flights are [HRR, CCS] and
        # [CCS, ClientHello], RFC 8446 §4.1.4 and §D.4)
        mark = 23 if self.tls13 else 20
        for sd, first, end in self.flights:
            if sd != side or not any(self.records[i][2] == mark for i in range(first, end)):
                continue
            last = self.records[end - 1]
            if last[2] in (22, 23) and not last[4]:
                return last[1], end - 1
            return None
        return None

    def finished_frame(self, side):
        rec = self.finished_record(side)
        return self.tcp.frame_of(side, rec[0]) if rec else None

    def alerts(self):
        out = []
        for side, offset, ctype, body, alert_flush in self.records:
            if ctype == 21 and len(body) == 2:
                level = {1: "warning", 2: "fatal"}[body[0]]
                desc = ALERT_NAMES.get(body[1], str(body[1]))
                encrypted = False
            elif ctype == 21 or (ctype == 23 and alert_flush and self.tls13):
                level = desc = None
                encrypted = True
            else:
                continue
            alert = {"from": side, "level": level, "description": desc,
                     "frame": self.tcp.frame_of(side, offset),
                     "encrypted": encrypted}
            if encrypted and isinstance(alert_flush, tuple):
                # what the receiving libssl read once it decrypted it
                alert["inner_level"], alert["inner_description"] = alert_flush
            out.append(alert)
        return sorted(out, key=lambda a: a["frame"])


# ---------------------------------------------------------------------------
# Contexts

def client_context(version, keylog, ciphers=None, cafile="root-ca.pem",
                   verify=True, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers)
    if verify:
        ctx.load_verify_locations(cafile=key_path(cafile))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if os.path.exists(keylog):
        os.remove(keylog)
    ctx.keylog_filename = keylog
    return ctx


def server_context(version, certfile, keyfile, ciphers=None, alpn=None,
                   keylog=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if keylog:
        ctx.keylog_filename = keylog
    ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers)
    ctx.load_cert_chain(key_path(certfile), key_path(keyfile))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


# ---------------------------------------------------------------------------
# Output

class Sample:
    """Everything one scenario produced."""

    def __init__(self, name, tcp, tls, alpn_offered, cert_files, server_key,
                 cipher, chain_files=None, server_keylog=None):
        self.name, self.tcp, self.tls = name, tcp, tls
        self.expect_cipher = cipher
        self.alpn_offered = alpn_offered or []
        self.cert_files = cert_files
        # what the server sent, also in TLS 1.3 where cert_files is []
        self.chain_files = cert_files if chain_files is None else chain_files
        self.server_key = server_key
        self.server_keylog = server_keylog    # file name in samples/, or None
        self.extra = {}          # more facts for the connection, if any
        # an abbreviated handshake: no Certificate on the wire (cert_files
        # []), chain_files still what the session was made with
        self.resumed = False

    def facts(self, filename, linktype):
        tcp, tls = self.tcp, self.tls
        c, s = tcp.ends["client"], tcp.ends["server"]
        version, code, alpn = tls.server_hello()
        client = tls.obj["client"]
        if client.version() is not None:
            assert PY_VERSION_NAMES[client.version()] == version
        cipher = CIPHERS[code]
        assert cipher == self.expect_cipher, (self.name, cipher)
        if client.cipher() is not None:
            assert CIPHERS[client.cipher()[0]] == cipher, (client.cipher(), cipher)
        if client.selected_alpn_protocol() is not None:
            assert client.selected_alpn_protocol() == alpn
        visible = version != "TLS 1.3"
        on_wire = certificates_in([(t, 0, b) for sd, _, t, b, _ in tls.records
                                   if sd == "server"]) if visible else []
        assert on_wire == [load_der(f) for f in self.cert_files], self.name
        if visible and not self.resumed:
            assert self.chain_files == self.cert_files, self.name
        assert self.chain_files, self.name
        leaf = client.getpeercert(binary_form=True) if client.version() else None
        if leaf is not None:         # the client saw the chain's first certificate
            assert leaf == load_der(self.chain_files[0]), self.name
        sh_exts = server_hello_extensions(tls.hello("server"))
        end, end_by = tcp.ending()
        first_c = next(o for sd, o, t, _, _ in tls.records if sd == "client")
        # after a HelloRetryRequest (itself a ServerHello, RFC 8446 §4.1.4)
        # the ServerHello is the second one
        hellos_s = [o for sd, o, t, b, _ in tls.records
                    if sd == "server" and t == 22 and b[:1] == b"\x02"]
        return {
            "file": filename,
            "linktype": linktype,
            "packets": len(tcp.packets),
            "connections": [{
                "client": {"ip": c.ip_text, "port": c.port},
                "server": {"ip": s.ip_text, "port": s.port},
                "first_frame": 1,
                "last_frame": len(tcp.packets),
                "client_hello_frame": tcp.frame_of("client", first_c),
                "server_hello_frame": tcp.frame_of("server", hellos_s[-1]),
                "hello_retry_request_frame": (tcp.frame_of("server", hellos_s[0])
                                              if len(hellos_s) > 1 else None),
                "sni": tls.sni,
                "alpn_offered": self.alpn_offered,
                "alpn_selected": alpn,
                "version": version,
                "cipher": cipher,
                "cert_files": ["keys/" + f for f in self.cert_files] if visible else [],
                "certs_visible": visible,
                "server_key_file": "keys/" + self.server_key,
                "server_chain_files": ["keys/" + f for f in self.chain_files],
                "server_keylog": self.server_keylog,
                "etm": EXT_ENCRYPT_THEN_MAC in sh_exts if visible else None,
                "ems": EXT_EXTENDED_MASTER_SECRET in sh_exts if visible else None,
                "client_finished_frame": tls.finished_frame("client"),
                "server_finished_frame": tls.finished_frame("server"),
                "alerts": tls.alerts(),
                "handshake_completed": tls.done["client"] and tls.done["server"],
                "end": end,
                "end_by": end_by,
                **self.extra,
            }],
        }


def write_facts(path, facts):
    with open(path, "w") as f:
        f.write(json.dumps(facts, indent=2) + "\n")


def write_sample(sample, relpath, framing=frame_ethernet,
                 linktype=LINKTYPE_ETHERNET, pcapng=False):
    path = os.path.join(HERE, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    frames = [(p.ts, framing(p.ip, p.side)) for p in sample.tcp.packets]
    (write_pcapng if pcapng else write_pcap)(path, linktype, frames)
    stem = os.path.splitext(path)[0]
    write_facts(stem + ".facts.json",
                sample.facts(os.path.basename(relpath), linktype))
    print("wrote %-40s %3d packets" % (relpath, len(frames)))


# ---------------------------------------------------------------------------
# Flight rewriting (what goes on the wire differs from what libssl wrote) and
# crypto checks

_LIBS = {}


def _linked_lib(stem):
    """The lib<stem> (crypto, ssl) the ssl module is linked with; one
    ctypes handle per library, so the argtypes set on it stay."""
    if stem not in _LIBS:
        _LIBS[stem] = _find_linked_lib(stem)
    return _LIBS[stem]


def _find_linked_lib(stem):
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if "lib%s.so" % stem in line:
                    return ctypes.CDLL(line.split()[-1])
    except OSError:
        pass
    return ctypes.CDLL(ctypes.util.find_library(stem) or "lib%s.so.3" % stem)


def _libcrypto():
    return _linked_lib("crypto")


def aes128_gcm_seal(key, nonce, aad, plaintext):
    """AES-128-GCM encryption through libcrypto's EVP interface:
    ciphertext + 16-byte tag."""
    lib = _libcrypto()
    lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
    lib.EVP_aes_128_gcm.restype = ctypes.c_void_p
    lib.EVP_EncryptInit_ex.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_char_p,
                                       ctypes.c_char_p]
    lib.EVP_EncryptUpdate.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_int),
                                      ctypes.c_char_p, ctypes.c_int]
    lib.EVP_EncryptFinal_ex.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_int)]
    lib.EVP_CIPHER_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                        ctypes.c_int, ctypes.c_void_p]
    lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]
    assert len(key) == 16 and len(nonce) == 12
    ctx = lib.EVP_CIPHER_CTX_new()
    try:
        n = ctypes.c_int(0)
        out = ctypes.create_string_buffer(len(plaintext) + 16)
        tag = ctypes.create_string_buffer(16)
        ok = (lib.EVP_EncryptInit_ex(ctx, lib.EVP_aes_128_gcm(), None, key, nonce)
              and lib.EVP_EncryptUpdate(ctx, None, ctypes.byref(n), aad, len(aad))
              and lib.EVP_EncryptUpdate(ctx, out, ctypes.byref(n), plaintext,
                                        len(plaintext)))
        size = n.value
        ok = ok and lib.EVP_EncryptFinal_ex(ctx, None, ctypes.byref(n))
        ok = ok and lib.EVP_CIPHER_CTX_ctrl(ctx, 0x10, 16, tag)  # GET_TAG
        assert ok, "libcrypto AES-GCM failed"
        return out.raw[:size] + tag.raw
    finally:
        lib.EVP_CIPHER_CTX_free(ctx)


def hkdf_expand_label(secret, label, length):
    """RFC 8446 HKDF-Expand-Label with SHA-256 and an empty context."""
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def encrypt_client_alert(flight, server_keylog, client_keylog):
    """Turn the client's clear TLS 1.3 alert record into ChangeCipherSpec +
    the same alert encrypted under the client handshake traffic key
    (TLS_AES_128_GCM_SHA256, first record under that key: sequence 0).
    Returns None for any flight that is not a lone clear alert.

    libssl's client derives (and logs) that key only when it writes its
    second flight, which it never does here; the server derived it already,
    so it is taken from the server's key log, and added to the client's key
    log as a client that encrypts its alert would have logged it."""
    records = split_records(flight)
    if len(records) != 1 or records[0][0] != 21:
        return None
    alert = records[0][2]
    with open(server_keylog) as f:
        line = next(l for l in f if l.startswith("CLIENT_HANDSHAKE_TRAFFIC_SECRET "))
    with open(client_keylog, "a") as f:
        f.write(line)
    secret = bytes.fromhex(line.split()[2])
    assert len(secret) == 32, "expected TLS_AES_128_GCM_SHA256"
    key = hkdf_expand_label(secret, b"key", 16)
    nonce = hkdf_expand_label(secret, b"iv", 12)       # XOR sequence 0
    inner = alert + b"\x15"                             # TLSInnerPlaintext
    header = struct.pack("!BHH", 23, 0x0303, len(inner) + 16)
    return (struct.pack("!BHHB", 20, 0x0303, 1, 1) + header
            + aes128_gcm_seal(key, nonce, header, inner))


def replace_certificate(flight, ders):
    """Rewrite a server flight (whole records) so that its Certificate
    message carries `ders`; handshake message and record lengths rebuilt."""
    out = bytearray()
    for ctype, version, body in split_records(flight):
        if ctype == 22:
            msgs = [certificate_message(ders) if mtype == 11 else msg
                    for mtype, msg in split_handshake(body)]
            body = b"".join(msgs)
            assert len(body) <= 16384
        out += struct.pack("!BHH", ctype, version, len(body)) + body
    return bytes(out)


def rsa_decrypts(keyfile, ciphertext):
    """True if `ciphertext` is a PKCS#1 v1.5 block for `keyfile`'s key
    holding a 48-byte TLS 1.2 pre-master secret (checked with openssl)."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(ciphertext)
        f.flush()
        r = subprocess.run(["openssl", "pkeyutl", "-decrypt", "-inkey",
                            key_path(keyfile), "-in", f.name,
                            "-pkeyopt", "rsa_padding_mode:pkcs1"],
                           capture_output=True)
    return r.returncode == 0 and len(r.stdout) == 48 and r.stdout[:2] == b"\x03\x03"


# ---------------------------------------------------------------------------
# Scenarios: one function each. Client ports are fixed per scenario.

def keylog_for(name):
    return os.path.join(HERE, name + ".keylog")


def ok_connection(name, port, version, v6=False, server_trouble=None,
                  chain=None, key="server.example.key", keylog=None):
    """A completed handshake with a little HTTP each way and a clean close.
    TLS 1.2: ECDHE-RSA-AES128-GCM-SHA256 with ALPN; TLS 1.3: AES_128_GCM.
    chain: the files the server sends (SERVER_CHAIN by default)."""
    chain = chain or SERVER_CHAIN
    tls13 = version == ssl.TLSVersion.TLSv1_3
    alpn = None if tls13 else ["h2", "http/1.1"]
    cipher = None if tls13 else "ECDHE-RSA-AES128-GCM-SHA256"
    cctx = client_context(version, keylog or keylog_for(name), ciphers=cipher, alpn=alpn)
    bundle = os.path.join(TMP, name + "-%d-chain.pem" % port)
    with open(bundle, "w") as f:
        for c in chain:
            with open(key_path(c)) as g:
                f.write(g.read())
    sctx = server_context(version, bundle, key, ciphers=cipher,
                          alpn=None if tls13 else ["http/1.1"])
    tcp = TcpConnection(port, v6=v6)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", tls13)
    if server_trouble:
        tls.send_options["server"] = server_trouble
    assert tls.handshake()
    tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
    tls.close_notify("client")
    tcp.fin("client")
    tcp.fin("server")
    tcp.ack("client")
    certs = [] if tls13 else chain
    return Sample(name, tcp, tls, alpn, certs, key,
                  "TLS_AES_128_GCM_SHA256" if tls13
                  else "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain_files=chain)


def write_multi(samples, relpath, keylogs):
    """Several connections in one capture, one after the other (each starts
    a second after the previous one's last packet), and their facts with
    frame numbers counted in the whole capture. keylogs: the connections'
    key log files, concatenated into the capture's."""
    path = os.path.join(HERE, relpath)
    stem = os.path.splitext(path)[0]
    frames, conns, offset, last_ts = [], [], 0, None
    for sample in samples:
        shift = 0
        if last_ts is not None and sample.tcp.packets[0].ts <= last_ts + 1000000:
            shift = last_ts + 1000000 - sample.tcp.packets[0].ts
        frames += [(p.ts + shift, frame_ethernet(p.ip, p.side)) for p in sample.tcp.packets]
        last_ts = frames[-1][0]
        conn = sample.facts(os.path.basename(relpath), LINKTYPE_ETHERNET)["connections"][0]
        for k in ("first_frame", "last_frame", "client_hello_frame", "server_hello_frame",
                  "hello_retry_request_frame", "client_finished_frame",
                  "server_finished_frame"):
            if conn.get(k) is not None:
                conn[k] += offset
        for a in conn["alerts"]:
            if a.get("frame") is not None:
                a["frame"] += offset
        conns.append(conn)
        offset += len(sample.tcp.packets)
    write_pcap(path, LINKTYPE_ETHERNET, frames)
    write_facts(stem + ".facts.json", {"file": os.path.basename(relpath),
                                        "linktype": LINKTYPE_ETHERNET,
                                        "packets": len(frames), "connections": conns})
    with open(stem + ".keylog", "w") as out:
        for k in keylogs:
            with open(k) as f:
                out.write(f.read())
    print("wrote %-40s %3d packets" % (relpath, len(frames)))


def scenario_tls12_sni_cert_change():
    """Three connections for the SNI server.example, one after the other:
    the usual certificate, a renewed one (another key, same names, same
    intermediate), the usual one again. Only the second presents a leaf
    that no earlier connection with the name presented."""
    name, v12 = "tls12-sni-cert-change", ssl.TLSVersion.TLSv1_2
    renewed = ["server.example-renewed.pem", "intermediate-ca.pem"]
    samples, keylogs = [], []
    for i, (port, chain, key) in enumerate((
            (40015, SERVER_CHAIN, "server.example.key"),
            (40016, renewed, "server.example-renewed.key"),
            (40017, SERVER_CHAIN, "server.example.key"))):
        keylog = os.path.join(TMP, "%s-%d.keylog" % (name, i))
        samples.append(ok_connection(name, port, v12, chain=chain, key=key, keylog=keylog))
        keylogs.append(keylog)
    write_multi(samples, name + ".pcap", keylogs)


def scenario_tls12_chain_broken():
    """The server sends its leaf with the intermediate from before a CA key
    rollover: the issuer's name, another key. The client (trusting the
    root) cannot build a chain and sends unknown_ca."""
    name, port, v12 = "tls12-chain-broken", 40018, ssl.TLSVersion.TLSv1_2
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    chain = ["server.example.pem", "old-intermediate-ca.pem"]
    cctx = client_context(v12, keylog_for(name), ciphers=cipher)
    sctx = server_context(v12, "server.example-broken-chain.pem", "server.example.key",
                          ciphers=cipher)
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", False)
    assert not tls.handshake()
    err = tls.error["client"]
    assert isinstance(err, ssl.SSLCertVerificationError), err
    tcp.fin("client", gap=GAP_SAME)
    tcp.fin("server")
    tcp.ack("client")
    sample = Sample(name, tcp, tls, None, chain, "server.example.key",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    sample.extra["client_verify_error"] = err.verify_message
    return sample


def scenario_tls12_ecdhe_ok():
    return ok_connection("tls12-ecdhe-ok", 40001, ssl.TLSVersion.TLSv1_2)


def scenario_tls13_ok():
    return ok_connection("tls13-ok", 40002, ssl.TLSVersion.TLSv1_3)


def scenario_tls12_ipv6_reordered():
    # The server's certificate flight is three segments. The second one is
    # held up in the network and arrives after the third (the client sends a
    # duplicate ACK); the server retransmits it later (an exact copy).
    return ok_connection("tls12-ipv6-reordered", 40006, ssl.TLSVersion.TLSv1_2,
                         v6=True,
                         server_trouble={"order": [0, 2, 1], "retransmit": 1})


SMTP_BEFORE_TLS = [
    # RFC 3207 §5: greeting, EHLO, the STARTTLS offer, STARTTLS, go-ahead
    ("server", b"220 mail.server.example ESMTP ready\r\n"),
    ("client", b"EHLO client.example\r\n"),
    ("server", b"250-mail.server.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
    ("client", b"STARTTLS\r\n"),
    ("server", b"220 2.0.0 Ready to start TLS\r\n"),
]


def scenario_smtp_starttls():
    """SMTP on port 25 upgraded with STARTTLS (RFC 3207), then a TLS 1.2
    ECDHE-RSA handshake with SNI, one EHLO inside TLS, and a clean close."""
    return starttls_connection("smtp-starttls", "SMTP", 40008, 25, SMTP_BEFORE_TLS,
                               b"EHLO client.example\r\n", b"250 mail.server.example\r\n")


def unknown_ca_connection(name, port, version, encrypt_alert=True):
    """The client trusts only "Other CA", rejects the server's chain and
    sends a fatal unknown_ca alert, then closes the connection.

    TLS 1.3: libssl (OpenSSL 3.0) sends this alert in clear, because its
    client installs the handshake write key only when it writes its second
    flight. RFC 8446 clients that encrypt it (rustls, BoringSSL) send a
    middlebox-compatibility ChangeCipherSpec and the alert encrypted with the
    client handshake traffic key. With encrypt_alert the script replaces
    libssl's clear alert with exactly that; the server's libssl then decrypts
    it and reports unknown_ca, which proves the encryption right."""
    tls13 = version == ssl.TLSVersion.TLSv1_3
    cipher = None if tls13 else "ECDHE-RSA-AES128-GCM-SHA256"
    keylog = keylog_for(name)
    server_keylog = os.path.join(TMP, name + ".server.keylog")
    cctx = client_context(version, keylog, ciphers=cipher, cafile="other-ca.pem")
    sctx = server_context(version, "server.example-chain.pem", "server.example.key",
                          ciphers=cipher, keylog=server_keylog)
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", tls13)
    if tls13 and encrypt_alert:
        tls.rewrite["client"] = lambda flight: encrypt_client_alert(
            flight, server_keylog, keylog)
    assert not tls.handshake()
    err = tls.error["client"]
    assert isinstance(err, ssl.SSLCertVerificationError), err
    assert "unable to get local issuer certificate" in err.verify_message, err
    assert tls.error["server"].reason == "TLSV1_ALERT_UNKNOWN_CA", tls.error["server"]
    sent = [(t, b) for sd, _, t, b, is_alert in tls.records if sd == "client" and is_alert]
    if tls13 and encrypt_alert:   # CCS, then 2 bytes alert + type + 16 bytes tag
        assert [t for t, _ in sent] == [20, 23] and len(sent[1][1]) == 19, sent
    else:
        assert sent == [(21, b"\x02\x30")], sent
    tcp.fin("client", gap=GAP_SAME)
    tcp.fin("server")
    tcp.ack("client")
    certs = [] if tls13 else SERVER_CHAIN
    return Sample(name, tcp, tls, None, certs, "server.example.key",
                  "TLS_AES_128_GCM_SHA256" if tls13
                  else "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain_files=SERVER_CHAIN)


def scenario_tls12_unknown_ca():
    return unknown_ca_connection("tls12-unknown-ca", 40003, ssl.TLSVersion.TLSv1_2)


def scenario_tls13_unknown_ca():
    return unknown_ca_connection("tls13-unknown-ca", 40005, ssl.TLSVersion.TLSv1_3)


def scenario_tls13_unknown_ca_cleartext():
    # What an OpenSSL client really sends: the TLS 1.3 alert in clear.
    return unknown_ca_connection("tls13-unknown-ca-cleartext", 40007,
                                 ssl.TLSVersion.TLSv1_3, encrypt_alert=False)


def scenario_tls12_rsa_key_mismatch():
    """RSA key exchange; the wire shows mismatch-sent's certificate while the
    server decrypts with mismatch-real's key: bad_record_mac from the server."""
    name, port = "tls12-rsa-key-mismatch", 40004
    v12 = ssl.TLSVersion.TLSv1_2
    alpn = ["h2", "http/1.1"]
    cctx = client_context(v12, keylog_for(name), ciphers="AES128-GCM-SHA256",
                          verify=False, alpn=alpn)
    sctx = server_context(v12, "mismatch-real.pem", "mismatch-real.key",
                          ciphers="AES128-GCM-SHA256", alpn=["http/1.1"])
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "legacy.server.example", False)
    sent_der = load_der("mismatch-sent.pem")
    tls.rewrite["server"] = lambda flight: replace_certificate(flight, [sent_der])
    assert not tls.handshake()

    # The server failed on the client's Finished, the client got the alert.
    err = tls.error["server"]
    assert err.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC", err
    assert tls.error["client"].reason == "SSLV3_ALERT_BAD_RECORD_MAC", tls.error["client"]
    alert_records = [r for r in tls.records if r[0] == "server" and r[4]]
    assert len(alert_records) == 1
    _, offset, _, _, _ = alert_records[0]
    raw = bytes(tcp.streams["server"][offset:offset + 7])
    ctype, version, length, level, desc = struct.unpack("!BHHBB", raw)
    assert (ctype, version, length, level, desc) == (0x15, 0x0303, 2, 2, 20), raw.hex()
    assert offset + 7 == len(tcp.streams["server"])     # nothing after it

    # The ClientKeyExchange went to mismatch-sent's key, not the server's.
    cke = next(msg for sd, _, t, body, _ in tls.records
               if sd == "client" and t == 22
               for mt, msg in split_handshake(body) if mt == 16)
    encrypted_pms = cke[6:]                  # header (4) + length (2)
    assert rsa_decrypts("mismatch-sent.key", encrypted_pms)
    assert not rsa_decrypts("mismatch-real.key", encrypted_pms)

    # The server closes the connection after its alert (FIN, not RST: it has
    # read everything the client sent), then the client closes too.
    tcp.fin("server", gap=GAP_SAME)
    tcp.fin("client")
    tcp.ack("server")
    return Sample(name, tcp, tls, alpn, ["mismatch-sent.pem"], "mismatch-real.key",
                  "TLS_RSA_WITH_AES_128_GCM_SHA256")


# ---------------------------------------------------------------------------
# Samples for decryption tests: both key logs, the server's chain in the
# facts (also for TLS 1.3), and the frames of both Finished messages.

def server_keylog_for(name):
    return os.path.join(HERE, name + ".server.keylog")


def decrypt_contexts(name, version, cipher):
    """Client and server contexts that both write a key log (fresh files)."""
    server_keylog = server_keylog_for(name)
    if os.path.exists(server_keylog):
        os.remove(server_keylog)
    cctx = client_context(version, keylog_for(name), ciphers=cipher)
    sctx = server_context(version, "server.example-chain.pem", "server.example.key",
                          ciphers=cipher, keylog=server_keylog)
    return cctx, sctx


def set_groups(ctx, groups):
    """SSL_CTX_set1_groups_list on an ssl.SSLContext (Python 3.11 has no
    API for it): the SSL_CTX pointer follows PyObject_HEAD in CPython's
    PySSLContext. Checked: libssl returns 1 for a list it accepts."""
    libssl = ctypes.CDLL(ctypes.util.find_library("ssl") or "libssl.so.3")
    libssl.SSL_CTX_ctrl.restype = ctypes.c_long
    libssl.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                                    ctypes.c_void_p]
    ptr = ctx_pointer(ctx)
    SSL_CTRL_SET_GROUPS_LIST = 92
    buf = ctypes.create_string_buffer(groups.encode())
    assert libssl.SSL_CTX_ctrl(ptr, SSL_CTRL_SET_GROUPS_LIST, 0,
                               ctypes.cast(buf, ctypes.c_void_p)) == 1, groups


def decrypt_ok_connection(name, port, version, cipher, iana, server_options=0,
                          etm=None, server_groups=None):
    """SNI server.example, no ALPN, a completed handshake, one HTTP request
    and response, close_notify both ways, FIN both ways. etm: whether the
    ServerHello must carry encrypt_then_mac (TLS 1.2), checked here."""
    tls13 = version == ssl.TLSVersion.TLSv1_3
    cctx, sctx = decrypt_contexts(name, version, cipher)
    sctx.options |= server_options
    if server_groups:
        set_groups(sctx, server_groups)
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", tls13)
    assert tls.handshake()
    tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
    tls.close_notify("client")
    tcp.fin("client")
    tcp.fin("server")
    tcp.ack("client")
    if etm is not None:
        sh = server_hello_extensions(tls.hello("server"))
        assert (EXT_ENCRYPT_THEN_MAC in sh) == etm, (name, sh)
        # the client offers it either way (OpenSSL's default)
        assert EXT_ENCRYPT_THEN_MAC in client_hello_extensions(tls.hello("client")), name
    for side in ("client", "server"):
        assert tls.finished_record(side) is not None, (name, side)
    return Sample(name, tcp, tls, None, [] if tls13 else SERVER_CHAIN, "server.example.key",
                  iana, chain_files=SERVER_CHAIN,
                  server_keylog=os.path.basename(server_keylog_for(name)))


def scenario_tls12_cbc_etm():
    """AES-128-CBC with HMAC-SHA256 and encrypt_then_mac (RFC 7366), which
    OpenSSL offers and accepts by default for CBC suites."""
    return decrypt_ok_connection("tls12-cbc-etm", 40009, ssl.TLSVersion.TLSv1_2,
                                 "ECDHE-RSA-AES128-SHA256",
                                 "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", etm=True)


def scenario_tls12_rsa_cbc_mte():
    """RSA key exchange, AES-256-CBC with HMAC-SHA1, MAC-then-encrypt: the
    server declines the client's encrypt_then_mac. The pre-master secret is
    encrypted to server.example.key, which the server really holds."""
    name = "tls12-rsa-cbc-mte"
    sample = decrypt_ok_connection(name, 40010, ssl.TLSVersion.TLSv1_2, "AES256-SHA",
                                   "TLS_RSA_WITH_AES_256_CBC_SHA",
                                   server_options=SSL_OP_NO_ENCRYPT_THEN_MAC, etm=False)
    cke = next(msg for sd, _, t, body, _ in sample.tls.records
               if sd == "client" and t == 22
               for mt, msg in split_handshake(body) if mt == 16)
    encrypted_pms = cke[6:]                  # header (4) + length (2)
    assert rsa_decrypts("server.example.key", encrypted_pms)
    assert not rsa_decrypts("mismatch-real.key", encrypted_pms)
    return sample


def flip_client_finished(flight, offset, xor, seen):
    """The client's second TLS 1.2 flight (ClientKeyExchange,
    ChangeCipherSpec, Finished) with one byte of the Finished record, at
    `offset` from the record's first byte, XORed with `xor`. `seen` gets the
    record's offset in the flight. None for any other flight."""
    records = split_records(flight)
    if not any(t == 20 for t, _, _ in records):
        return None
    out, pos = bytearray(), 0
    for i, (ctype, version, body) in enumerate(records):
        rec = bytearray(struct.pack("!BHH", ctype, version, len(body)) + body)
        if i > 0 and records[i - 1][0] == 20:          # the record after the CCS
            assert ctype == 22 and 5 <= offset < len(rec), (ctype, len(rec))
            rec[offset] ^= xor
            seen.append(pos)
        out += rec
        pos += len(rec)
    assert len(seen) == 1, seen
    return bytes(out)


def scenario_tls12_finished_tampered():
    """A clean TLS 1.2 ECDHE-RSA-AES128-GCM handshake until the client's
    Finished, in which the script flips one ciphertext byte on the way to
    the server: libssl on the server fails to authenticate the record and
    answers with a fatal bad_record_mac alert in clear. The capture holds the
    tampered bytes. The keys on both sides are the same (both key logs say
    so): only the record is wrong."""
    name, port = "tls12-finished-tampered", 40011
    v12 = ssl.TLSVersion.TLSv1_2
    cctx, sctx = decrypt_contexts(name, v12, "ECDHE-RSA-AES128-GCM-SHA256")
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", False)
    # GCM record: header (5), explicit nonce (8), ciphertext of the 16-byte
    # Finished message, tag (16). Byte 5 + 8 + 4 is the first byte of
    # verify_data's ciphertext.
    offset, xor, seen = 17, 0x01, []
    tls.rewrite["client"] = lambda flight: flip_client_finished(flight, offset, xor, seen)
    assert not tls.handshake()
    err = tls.error["server"]
    assert err.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC", err
    assert tls.error["client"].reason == "SSLV3_ALERT_BAD_RECORD_MAC", tls.error["client"]
    alert_records = [r for r in tls.records if r[0] == "server" and r[4]]
    assert len(alert_records) == 1
    _, alert_offset, _, _, _ = alert_records[0]
    raw = bytes(tcp.streams["server"][alert_offset:alert_offset + 7])
    assert struct.unpack("!BHHBB", raw) == (0x15, 0x0303, 2, 2, 20), raw.hex()
    assert alert_offset + 7 == len(tcp.streams["server"])
    # the tampered record, as it is on the wire
    fin_offset, _ = tls.finished_record("client")
    wire = bytes(tcp.streams["client"][fin_offset:fin_offset + 40 + 5])
    assert wire[:5] == bytes.fromhex("1603030028"), wire.hex()
    tcp.fin("server", gap=GAP_SAME)
    tcp.fin("client")
    tcp.ack("server")
    sample = Sample(name, tcp, tls, None, SERVER_CHAIN, "server.example.key",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    server_keylog=os.path.basename(server_keylog_for(name)))
    sample.extra = {"tampered": {
        "frame": tcp.frame_of("client", fin_offset + offset),
        "record": "client Finished",
        "offset": offset,
        "xor": xor,
    }}
    return sample


def scenario_tls13_chacha():
    """TLS 1.3 with TLS_CHACHA20_POLY1305_SHA256 only (both sides)."""
    return decrypt_ok_connection("tls13-chacha", 40012, ssl.TLSVersion.TLSv1_3, None,
                                 "TLS_CHACHA20_POLY1305_SHA256")


def scenario_tls13_aes256():
    """TLS 1.3 with TLS_AES_256_GCM_SHA384 only: the SHA-384 key schedule."""
    return decrypt_ok_connection("tls13-aes256", 40013, ssl.TLSVersion.TLSv1_3, None,
                                 "TLS_AES_256_GCM_SHA384")


def scenario_tls13_hrr():
    """TLS 1.3 with a HelloRetryRequest (RFC 8446 §4.1.4): the client's key
    share is X25519, the server accepts only P-256 and asks again; the
    transcript then starts with message_hash (§4.4.1)."""
    sample = decrypt_ok_connection("tls13-hrr", 40014, ssl.TLSVersion.TLSv1_3, None,
                                   "TLS_AES_128_GCM_SHA256", server_groups="P-256")
    # RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random
    hrr_random = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891"
                               "C2A211167ABB8C5E079E09E2C8A8339C")
    assert sample.tls.hello("server")[6:38] == hrr_random, "no HelloRetryRequest"
    return sample


# ---------------------------------------------------------------------------
# Older versions, resumption, renegotiation, client certificates, STARTTLS
# (issue #5's end-to-end samples)

def scenario_tls10():
    """TLS 1.0, ciphers DEFAULT@SECLEVEL=0 on both sides (OpenSSL 3 refuses
    TLS 1.0/1.1 at the default security level): a CBC suite with the
    record's IV implicit (RFC 2246 §6.2.3.2)."""
    return decrypt_ok_connection("tls10", 40015, ssl.TLSVersion.TLSv1, "DEFAULT@SECLEVEL=0",
                                 "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")


def scenario_tls11():
    """TLS 1.1 (explicit CBC IV per record, RFC 4346 §6.2.3.2)."""
    return decrypt_ok_connection("tls11", 40016, ssl.TLSVersion.TLSv1_1, "DEFAULT@SECLEVEL=0",
                                 "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")


GAP_CONNECTIONS = 250000     # microseconds between two connections of one capture


def shift_frames(conn, delta):
    """Frame numbers of a connection's facts moved by delta (its packets
    come after delta others in the file)."""
    for key, value in list(conn.items()):
        if (key.endswith("_frame") or key == "frame") and isinstance(value, int):
            conn[key] = value + delta
        elif isinstance(value, dict):
            shift_frames(value, delta)
    for a in conn.get("alerts", []):
        a["frame"] += delta


def write_multi(samples_, relpath):
    """One capture holding the samples' connections one after the other;
    the facts list every connection with its frames in this file."""
    path = os.path.join(HERE, relpath)
    frames, conns = [], []
    for sample in samples_:
        facts = sample.facts(os.path.basename(relpath), LINKTYPE_ETHERNET)
        conn = facts["connections"][0]
        shift_frames(conn, len(frames))
        conn["first_frame"] = len(frames) + 1
        frames += [(p.ts, frame_ethernet(p.ip, p.side)) for p in sample.tcp.packets]
        conn["last_frame"] = len(frames)
        conns.append(conn)
    write_pcap(path, LINKTYPE_ETHERNET, frames)
    write_facts(os.path.splitext(path)[0] + ".facts.json",
                {"file": os.path.basename(relpath), "linktype": LINKTYPE_ETHERNET,
                 "packets": len(frames), "connections": conns})
    print("wrote %-40s %3d packets" % (relpath, len(frames)))


def resumption_pair(name, port, version, how, cipher, iana):
    """A full handshake on `port`, then a second connection (port + 1) that
    resumes its session: by session ID (the server issues no ticket), by
    session ticket (RFC 5077), or TLS 1.3 PSK (RFC 8446 §2.2). Both share
    one client context, so one key log. Returns the two Samples."""
    tls13 = version == ssl.TLSVersion.TLSv1_3
    cctx = client_context(version, keylog_for(name), ciphers=cipher)
    sctx = server_context(version, "server.example-chain.pem", "server.example.key",
                          ciphers=cipher)
    if how == "session_id":
        sctx.options |= ssl.OP_NO_TICKET
    out, session, start = [], None, None
    for n in range(2):
        tcp = TcpConnection(port + n, start=start)
        tcp.open()
        tls = TlsSession(tcp, cctx, sctx, "server.example", tls13, session=session)
        assert tls.handshake()
        tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
        reused = tls.obj["client"].session_reused
        assert reused == (n == 1), (name, n, reused)
        if n == 0:
            session = tls.obj["client"].session
            assert session is not None and (session.has_ticket == (how != "session_id")), name
        tls.close_notify("client")
        tcp.fin("client")
        tcp.fin("server")
        tcp.ack("client")
        sample = Sample(name, tcp, tls, None, [] if tls13 or n else SERVER_CHAIN,
                        "server.example.key", iana, chain_files=SERVER_CHAIN)
        sample.resumed = n == 1
        ch = tls.hello("client")
        sh_exts = server_hello_extensions(tls.hello("server"))
        ch_exts = client_hello_extensions(ch)
        if n == 1:       # what the resumption rests on, in the hellos
            if how == "psk":
                assert 41 in ch_exts and 41 in sh_exts, (ch_exts, sh_exts)
            elif how == "ticket":
                assert 35 in ch_exts and ticket_in_client_hello(ch), name
            else:
                assert not ticket_in_client_hello(ch), name
                assert session_id_of(ch) == session_id_of(tls.hello("server")) != b"", name
        sample.extra = {
            "resumed": n == 1,
            "resumption": how if n == 1 else None,
            "full_handshake_in_capture": None,       # set by the caller
        }
        out.append(sample)
        start = tcp.now + GAP_CONNECTIONS
    return out


def session_id_of(hello):
    """legacy_session_id of a ClientHello or ServerHello message."""
    body = hello[4:]
    return bytes(body[35:35 + body[34]])


def ticket_in_client_hello(msg):
    """The session_ticket extension's contents (RFC 5077 §3.2), b"" when
    empty or absent."""
    body = msg[4:]
    i = 35 + body[34]
    i += 2 + struct.unpack("!H", body[i:i + 2])[0]
    i += 1 + body[i]
    end = i + 2 + struct.unpack("!H", body[i:i + 2])[0]
    i += 2
    while i < end:
        etype, elen = struct.unpack("!HH", body[i:i + 4])
        if etype == 35:
            return bytes(body[i + 4:i + 4 + elen])
        i += 4 + elen
    return b""


def make_resumption(name, port, version, how, cipher, iana):
    """<name>.pcap: the full handshake and the resumed one; <name>-only.pcap:
    the resumed connection alone (its full handshake not captured)."""
    full, resumed = resumption_pair(name, port, version, how, cipher, iana)
    resumed.extra["full_handshake_in_capture"] = True
    write_multi([full, resumed], name + ".pcap")
    resumed.extra["full_handshake_in_capture"] = False
    write_multi([resumed], name + "-only.pcap")
    shutil.copyfile(keylog_for(name), keylog_for(name + "-only"))


def _libssl():
    return _linked_lib("ssl")


def ssl_pointer(sslobject):
    """The SSL * of an ssl.SSLObject: its _sslobj is CPython's PySSLSocket,
    where the pointer follows PyObject_HEAD and the socket weakref.
    Checked by the caller with SSL_version."""
    return ctypes.c_void_p.from_address(
        id(sslobject._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value


def pump(tls, side):
    """Let `side` read what came in (a renegotiation runs inside SSL_read)
    and put what it wrote on the wire."""
    try:
        got = tls.obj[side].read(4096)
        assert got == b"", got
    except ssl.SSLWantReadError:
        pass
    return tls.flush(side)


def scenario_tls12_renegotiation():
    """TLS 1.2 with a server-initiated secure renegotiation (RFC 5746):
    after one request and response, the server sends a HelloRequest
    (SSL_renegotiate through ctypes: Python's ssl has no call for it), the
    client answers with a new ClientHello, and a second full handshake runs
    inside the encrypted connection; then a second request and response."""
    name, port = "tls12-renegotiation", 40023
    v12 = ssl.TLSVersion.TLSv1_2
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    cctx, sctx = decrypt_contexts(name, v12, cipher)
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", False)
    assert tls.handshake()
    tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
    lib = _libssl()
    lib.SSL_version.argtypes = [ctypes.c_void_p]
    lib.SSL_renegotiate.argtypes = [ctypes.c_void_p]
    lib.SSL_renegotiate_pending.argtypes = [ctypes.c_void_p]
    lib.SSL_do_handshake.argtypes = [ctypes.c_void_p]
    lib.SSL_ctrl.restype = ctypes.c_long
    lib.SSL_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    server = ssl_pointer(tls.obj["server"])
    assert lib.SSL_version(server) == 0x0303
    first = len(tls.records)
    assert lib.SSL_renegotiate(server) == 1
    lib.SSL_do_handshake(server)             # writes the HelloRequest
    assert tls.flush("server"), "no HelloRequest"
    hello_request = tls.records[first]
    for _ in range(6):
        moved = pump(tls, "client") + pump(tls, "server")
        if not moved and not lib.SSL_renegotiate_pending(server):
            break
    assert not lib.SSL_renegotiate_pending(server), "renegotiation did not finish"
    SSL_CTRL_GET_NUM_RENEGOTIATIONS = 10
    assert lib.SSL_ctrl(server, SSL_CTRL_GET_NUM_RENEGOTIATIONS, 0, None) == 1
    tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
    tls.close_notify("client")
    tcp.fin("client")
    tcp.fin("server")
    tcp.ack("client")
    # RFC 5746 §3.6: the ServerHello of the first handshake has
    # renegotiation_info (0xff01), so the renegotiation is the secure kind
    assert 0xFF01 in server_hello_extensions(tls.hello("server"))
    sample = Sample(name, tcp, tls, None, SERVER_CHAIN, "server.example.key",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    server_keylog=os.path.basename(server_keylog_for(name)))
    sample.extra = {"renegotiation": {
        "by": "server",
        "frame": tcp.frame_of("server", hello_request[1]),
        "secure": True,
    }}
    return sample


# RFC 8446 §4.2.3 names (IANA TLS SignatureScheme registry) of the codes
# libssl sends
SIGSCHEME_NAMES = {
    0x0201: "rsa_pkcs1_sha1", 0x0203: "ecdsa_sha1", 0x0401: "rsa_pkcs1_sha256",
    # TLS 1.2 hash/signature pairs (RFC 5246 §7.4.1.4.1) without an RFC 8446 name
    0x0202: "dsa_sha1", 0x0301: "rsa_pkcs1_sha224", 0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224", 0x0402: "dsa_sha256", 0x0502: "dsa_sha384",
    0x0602: "dsa_sha512",
    0x0403: "ecdsa_secp256r1_sha256", 0x0501: "rsa_pkcs1_sha384",
    0x0503: "ecdsa_secp384r1_sha384", 0x0601: "rsa_pkcs1_sha512",
    0x0603: "ecdsa_secp521r1_sha512", 0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512", 0x0807: "ed25519",
    0x0808: "ed448", 0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512", 0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384", 0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
}


def handshake_message(tls, side, mtype):
    """The first clear handshake message of this type from `side`."""
    for sd, _, ctype, body, _ in tls.records:
        if sd == side and ctype == 22:
            try:
                msgs = split_handshake(body)
            except AssertionError:       # an encrypted record
                continue
            for t, msg in msgs:
                if t == mtype:
                    return msg
    return None


def openssl_subject(pem_text):
    r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                       input=pem_text, capture_output=True, text=True, check=True)
    return r.stdout.strip().split("=", 1)[1]


def scenario_tls12_client_cert():
    """TLS 1.2 with a client certificate (RFC 5246 §7.4.4, §7.4.6,
    §7.4.8): the server (CERT_REQUIRED) sends a CertificateRequest naming
    the two CAs of keys/chain.pem (set with SSL_CTX_set_client_CA_list
    through ctypes), the client answers with client.example + the
    intermediate and a CertificateVerify."""
    name, port = "tls12-client-cert", 40030
    v12 = ssl.TLSVersion.TLSv1_2
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    cctx, sctx = decrypt_contexts(name, v12, cipher)
    cctx.load_cert_chain(key_path("client.example-chain.pem"), key_path("client.example.key"))
    sctx.verify_mode = ssl.CERT_REQUIRED
    sctx.load_verify_locations(cafile=key_path("root-ca.pem"))
    lib = _libssl()
    lib.SSL_load_client_CA_file.restype = ctypes.c_void_p
    lib.SSL_load_client_CA_file.argtypes = [ctypes.c_char_p]
    lib.SSL_CTX_set_client_CA_list.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    cas = lib.SSL_load_client_CA_file(key_path("chain.pem").encode())
    assert cas
    lib.SSL_CTX_set_client_CA_list(ctx_pointer(sctx), cas)
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", False)
    assert tls.handshake()
    tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
    assert tls.obj["server"].getpeercert(binary_form=True) == load_der("client.example.pem")
    tls.close_notify("client")
    tcp.fin("client")
    tcp.fin("server")
    tcp.ack("client")
    # RFC 5246 §7.4.4: certificate_types<1..2^8-1>,
    # supported_signature_algorithms<2..2^16-2>, certificate_authorities<0..2^16-1>
    cr = handshake_message(tls, "server", 13)[4:]
    i = 1 + cr[0]
    n = struct.unpack("!H", cr[i:i + 2])[0]
    sigalgs = [SIGSCHEME_NAMES[c] for c in struct.unpack("!%dH" % (n // 2), cr[i + 2:i + 2 + n])]
    i += 2 + n
    end = i + 2 + struct.unpack("!H", cr[i:i + 2])[0]
    i += 2
    ca_ders = []
    while i < end:
        m = struct.unpack("!H", cr[i:i + 2])[0]
        ca_ders.append(cr[i + 2:i + 2 + m])
        i += 2 + m
    with open(key_path("chain.pem")) as f:
        pems = ["-----BEGIN" + p for p in f.read().split("-----BEGIN")[1:]]
    names = [openssl_subject(p) for p in pems]
    assert len(ca_ders) == len(names) == 2, ca_ders
    # RFC 5246 §7.4.8: digitally-signed struct, the scheme first
    cv = handshake_message(tls, "client", 15)[4:]
    scheme = SIGSCHEME_NAMES[struct.unpack("!H", cv[:2])[0]]
    client_chain = ["client.example.pem", "intermediate-ca.pem"]
    on_wire = certificates_in([(t, 0, b) for sd, _, t, b, _ in tls.records if sd == "client"])
    assert on_wire == [load_der(f) for f in client_chain]
    sample = Sample(name, tcp, tls, None, SERVER_CHAIN, "server.example.key",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    server_keylog=os.path.basename(server_keylog_for(name)))
    sample.extra = {
        "certificate_request": {
            "frame": tcp.frame_of("server", next(o for sd, o, t, b, _ in tls.records
                                                 if sd == "server" and t == 22
                                                 and 13 in [m for m, _ in safe_split(b)])),
            "certificate_authorities": names,
            "signature_algorithms": sigalgs,
        },
        "client_cert_files": ["keys/" + f for f in client_chain],
        "certificate_verify_scheme": scheme,
    }
    return sample


def safe_split(body):
    try:
        return split_handshake(body)
    except AssertionError:
        return []


def ctx_pointer(ctx):
    """The SSL_CTX * of an ssl.SSLContext: it follows PyObject_HEAD in
    CPython's PySSLContext."""
    return ctypes.c_void_p.from_address(id(ctx) + 2 * ctypes.sizeof(ctypes.c_void_p)).value


def ocsp_response_for(leaf, issuer, issuer_key):
    """A DER OCSP response (RFC 6960) saying `leaf` is good, signed by its
    issuer, valid 7 days, without the signer's certificate: made with the
    openssl CLI (a one-line index, a request, the responder)."""
    def x509(*args):
        return subprocess.run(["openssl", "x509", "-in", key_path(leaf), "-noout", *args],
                              check=True, capture_output=True, text=True).stdout.strip()
    serial = x509("-serial").split("=", 1)[1]
    end = time.strptime(x509("-enddate").split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    subject = x509("-subject", "-nameopt", "compat").split("=", 1)[1].strip()
    index, req, resp = (os.path.join(TMP, n) for n in ("ocsp-index.txt", "ocsp-req.der",
                                                         "ocsp-resp.der"))
    with open(index, "w") as f:
        f.write("V\t%s\t\t%s\tunknown\t%s\n" % (time.strftime("%y%m%d%H%M%SZ", end), serial,
                                                subject))
    subprocess.run(["openssl", "ocsp", "-issuer", key_path(issuer), "-cert", key_path(leaf),
                    "-no_nonce", "-reqout", req], check=True, capture_output=True)
    subprocess.run(["openssl", "ocsp", "-index", index, "-rsigner", key_path(issuer),
                    "-rkey", key_path(issuer_key), "-CA", key_path(issuer), "-reqin", req,
                    "-respout", resp, "-ndays", "7", "-resp_no_certs"],
                   check=True, capture_output=True)
    with open(resp, "rb") as f:
        der = f.read()
    text = subprocess.run(["openssl", "ocsp", "-respin", resp, "-resp_text", "-noverify"],
                          check=True, capture_output=True, text=True).stdout

    def field(label):
        line = next(l for l in text.splitlines() if l.strip().startswith(label + ":"))
        return line.split(":", 1)[1].strip()

    def iso(value):      # "Nov 28 18:52:43 2026 GMT", as openssl prints it
        return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                             time.strptime(" ".join(value.split()), "%b %d %H:%M:%S %Y GMT"))
    facts = {
        "response_status": field("OCSP Response Status").split()[0],
        "cert_status": field("Cert Status"),
        "produced_at": iso(field("Produced At")),
        "this_update": iso(field("This Update")),
        "next_update": iso(field("Next Update")),
        "length": len(der),
    }
    return der, facts


# SSL_CTX_set_tlsext_status_cb's callback: int (*)(SSL *, void *)
STATUS_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB = 63
SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE = 65
SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP = 70
SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP = 71
TLSEXT_STATUSTYPE_ocsp = 1


def staple_ocsp(sctx, cctx, der, keep):
    """The client asks for the certificate status (status_request, RFC 6066
    §8) and the server staples `der` in a CertificateStatus message, set
    from its status callback (SSL_set_tlsext_status_ocsp_resp takes a
    buffer from OPENSSL_malloc and frees it). `keep` holds the callback
    for as long as libssl may call it."""
    libssl, libcrypto = _libssl(), _libcrypto()
    libssl.SSL_ctrl.restype = libssl.SSL_CTX_ctrl.restype = ctypes.c_long
    libssl.SSL_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    libssl.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                                    ctypes.c_void_p]
    libssl.SSL_CTX_callback_ctrl.restype = ctypes.c_long
    libssl.SSL_CTX_callback_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    libcrypto.CRYPTO_malloc.restype = ctypes.c_void_p
    libcrypto.CRYPTO_malloc.argtypes = [ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int]

    def on_status(ssl_ptr, _arg):
        buf = libcrypto.CRYPTO_malloc(len(der), b"make-samples.py", 0)
        ctypes.memmove(buf, der, len(der))
        ok = libssl.SSL_ctrl(ssl_ptr, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, len(der), buf)
        return 0 if ok == 1 else 2          # SSL_TLSEXT_ERR_OK / _ALERT_FATAL
    keep.append(STATUS_CB(on_status))
    assert libssl.SSL_CTX_callback_ctrl(ctx_pointer(sctx), SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB,
                                        ctypes.cast(keep[-1], ctypes.c_void_p)) == 1
    assert libssl.SSL_CTX_ctrl(ctx_pointer(cctx), SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE,
                               TLSEXT_STATUSTYPE_ocsp, None) == 1


def scenario_tls12_ocsp_stapled():
    """TLS 1.2 ECDHE-RSA; the client sends status_request and the server
    staples an OCSP response for its leaf (made here with openssl ocsp,
    signed by the intermediate) in a CertificateStatus message (RFC 6066
    §8) after its Certificate."""
    name, port = "tls12-ocsp-stapled", 40031
    v12 = ssl.TLSVersion.TLSv1_2
    cctx, sctx = decrypt_contexts(name, v12, "ECDHE-RSA-AES128-GCM-SHA256")
    der, facts = ocsp_response_for("server.example.pem", "intermediate-ca.pem",
                                   "intermediate-ca.key")
    keep = []
    staple_ocsp(sctx, cctx, der, keep)
    tcp = TcpConnection(port)
    tcp.open()
    tls = TlsSession(tcp, cctx, sctx, "server.example", False)
    assert tls.handshake()
    # the client's libssl holds exactly the response the server stapled
    libssl = _libssl()
    got = ctypes.c_void_p()
    n = libssl.SSL_ctrl(ssl_pointer(tls.obj["client"]), SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP,
                        0, ctypes.byref(got))
    assert n == len(der) and ctypes.string_at(got, n) == der, n
    tls.exchange(HTTP_REQUEST, HTTP_RESPONSE)
    tls.close_notify("client")
    tcp.fin("client")
    tcp.fin("server")
    tcp.ack("client")
    # the frame of the CertificateStatus message's first byte
    offset = None
    for sd, rec_off, ctype, body, _ in tls.records:
        if sd == "server" and ctype == 22:
            pos = 0
            for mtype, msg in safe_split(body):
                if mtype == 22:
                    offset = rec_off + 5 + pos
                    assert msg[4] == TLSEXT_STATUSTYPE_ocsp and msg[8:] == der
                pos += len(msg)
    assert offset is not None, "no CertificateStatus"
    sample = Sample(name, tcp, tls, None, SERVER_CHAIN, "server.example.key",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    server_keylog=os.path.basename(server_keylog_for(name)))
    sample.extra = {"ocsp_staple": dict(facts, frame=tcp.frame_of("server", offset))}
    return sample


# Plain-text exchanges up to the upgrade, one per protocol. The last line
# is the server's go-ahead; after it both sides speak TLS.
LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def ber(tag, content):
    assert len(content) < 128
    return bytes([tag, len(content)]) + content


STARTTLS_SCRIPTS = {
    # RFC 9051 §6.2.1
    "IMAP": (143, [
        ("server", b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] server.example ready\r\n"),
        ("client", b"a001 CAPABILITY\r\n"),
        ("server", b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
                   b"a001 OK CAPABILITY completed\r\n"),
        ("client", b"a002 STARTTLS\r\n"),
        ("server", b"a002 OK Begin TLS negotiation now\r\n"),
    ], (b"a003 NOOP\r\n", b"a003 OK NOOP completed\r\n")),
    # RFC 2595 §4
    "POP3": (110, [
        ("server", b"+OK POP3 server.example ready\r\n"),
        ("client", b"CAPA\r\n"),
        ("server", b"+OK Capability list follows\r\nUSER\r\nSTLS\r\n.\r\n"),
        ("client", b"STLS\r\n"),
        ("server", b"+OK Begin TLS negotiation\r\n"),
    ], (b"NOOP\r\n", b"+OK\r\n")),
    # RFC 4217 §4
    "FTP": (21, [
        ("server", b"220 server.example FTP server ready\r\n"),
        ("client", b"FEAT\r\n"),
        ("server", b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n"),
        ("client", b"AUTH TLS\r\n"),
        ("server", b"234 AUTH TLS successful\r\n"),
    ], (b"PBSZ 0\r\n", b"200 PBSZ=0\r\n")),
    # RFC 6120 §5.4
    "XMPP": (5222, [
        ("client", b"<?xml version='1.0'?><stream:stream to='server.example' "
                   b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                   b"version='1.0'>"),
        ("server", b"<?xml version='1.0'?><stream:stream from='server.example' "
                   b"id='tlsdiag-1' xmlns='jabber:client' "
                   b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
                   b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                   b"<required/></starttls></stream:features>"),
        ("client", b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        ("server", b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    ], (b"<?xml version='1.0'?><stream:stream to='server.example' xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        b"<?xml version='1.0'?><stream:stream from='server.example' id='tlsdiag-2' "
        b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
        b"version='1.0'>")),
    # RFC 4511 §4.14: ExtendedRequest [APPLICATION 23] { requestName [0] },
    # ExtendedResponse [APPLICATION 24] { resultCode success, matchedDN "",
    # diagnosticMessage "", responseName [10] }
    "LDAP": (389, [
        ("client", ber(0x30, ber(0x02, b"\x01") + ber(0x77, ber(0x80, LDAP_STARTTLS_OID)))),
        ("server", ber(0x30, ber(0x02, b"\x01") + ber(0x78, ber(0x0A, b"\x00") + ber(0x04, b"")
                                                       + ber(0x04, b"")
                                                       + ber(0x8A, LDAP_STARTTLS_OID)))),
    ], (ber(0x30, ber(0x02, b"\x02") + ber(0x60, ber(0x02, b"\x03") + ber(0x04, b"")
                                                 + ber(0x80, b""))),   # anonymous bind
        ber(0x30, ber(0x02, b"\x02") + ber(0x61, ber(0x0A, b"\x00") + ber(0x04, b"")
                                                 + ber(0x04, b""))))),
    # PostgreSQL protocol §55.2.10: SSLRequest (length 8, code 80877103), 'S'
    "PostgreSQL": (5432, [
        ("client", struct.pack("!II", 8, 80877103)),
        ("server", b"S"),
    ], (struct.pack("!II", 8, 196608) + b"", b"R\x00\x00\x00\x08\x00\x00\x00\x00")),
}

STARTTLS_PORTS = {"IMAP": 40024, "POP3": 40025, "FTP": 40026, "XMPP": 40027, "LDAP": 40028,
                  "PostgreSQL": 40029}


def starttls_connection(name, proto, client_port, server_port, script, request, response):
    """A plain-text exchange that ends in the server's go-ahead (for ADB,
    in the second side's STLS, the host's; for PROXY, in the client's
    header), then a TLS 1.2 ECDHE-RSA
    handshake with SNI, one request and response inside TLS, and a clean
    close."""
    version = ssl.TLSVersion.TLSv1_2
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    cctx = client_context(version, keylog_for(name), ciphers=cipher)
    sctx = server_context(version, "server.example-chain.pem", "server.example.key",
                          ciphers=cipher)
    tcp = TcpConnection(client_port, server_port=server_port)
    tcp.open()
    for side, line in script:
        tcp.send(side, line)
    upgrade_side = script[-1][0]
    assert upgrade_side == "server" or proto in ("ADB", "PROXY")
    tls = TlsSession(tcp, cctx, sctx, "server.example", False)
    assert tls.handshake()
    tls.exchange(request, response)
    tls.close_notify("client")
    tcp.fin("client")
    tcp.fin("server")
    tcp.ack("client")
    sample = Sample(name, tcp, tls, None, SERVER_CHAIN,
                    "server.example.key", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    # the frame of the go-ahead: the last plain-text send
    go_ahead = len(b"".join(l for sd, l in script if sd == upgrade_side)) - 1
    sample.extra = {"starttls": proto, "starttls_frame": tcp.frame_of(upgrade_side, go_ahead)}
    return sample


# A server that answers TLS in plain text. A libssl client sends its
# ClientHello; the server, which does not speak TLS on that port, answers
# as its protocol does, and libssl gives up ("wrong version number"). Two
# classics: an SMTP server that greets in plain text on the implicit-TLS
# port 465 (RFC 8314 §3.3), the client sending TLS at once, the server
# rejecting the hello's bytes as a command (Postfix's words); and a plain
# HTTP listener where HTTPS was meant, answering 400 (nginx's words).
PLAIN_SERVERS = {
    "smtp-plain-on-465": {
        "client_port": 40057, "server_port": 465, "sni": None,
        "greeting": b"220 mail.server.example ESMTP Postfix\r\n",
        "reply": b"502 5.5.2 Error: command not recognized\r\n",
        "closes_first": "client", "starttls": "SMTP",
        "doc": "an SMTP server greeting in plain text on port 465; the client "
               "sends a ClientHello at once",
    },
    "https-to-http": {
        "client_port": 40058, "server_port": 8443, "sni": "server.example",
        "greeting": None,
        "reply": (b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n"
                  b"Content-Type: text/html\r\nContent-Length: 150\r\n"
                  b"Connection: close\r\n\r\n" + b"<html>\r\n<head><title>400 "
                  b"Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad "
                  b"Request</h1></center>\r\n<hr><center>nginx</center>\r\n"
                  b"</body>\r\n</html>\r\n"),
        "closes_first": "server", "starttls": None,
        "doc": "a plain HTTP listener on the port the client took for HTTPS",
    },
}


def scenario_plain_server(name):
    """A ClientHello from libssl, answered in plain text (PLAIN_SERVERS)."""
    spec = PLAIN_SERVERS[name]
    cctx = client_context(ssl.TLSVersion.TLSv1_2, keylog_for(name),
                          verify=spec["sni"] is not None)
    bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(bio_in, bio_out, server_side=False,
                           server_hostname=spec["sni"])
    tcp = TcpConnection(spec["client_port"], server_port=spec["server_port"])
    tcp.open()
    if spec["greeting"]:
        tcp.send("server", spec["greeting"])
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = bio_out.read()
    assert hello[:1] == b"\x16" and hello[5:6] == b"\x01", name
    tcp.send("client", hello)
    tcp.send("server", spec["reply"])
    bio_in.write(spec["reply"])
    try:
        client.do_handshake()
        raise AssertionError(name + ": libssl accepted plain text")
    except ssl.SSLError as e:
        failure = e.reason
    assert not bio_out.pending, name       # libssl sends no alert for it
    first = spec["closes_first"]
    tcp.fin(first)
    tcp.fin(other_side(first))
    tcp.ack(first)
    # the key log holds no secret (no handshake), only what Python wrote
    # on opening it
    assert "CLIENT_RANDOM" not in open(keylog_for(name)).read(), name
    greeting_len = len(spec["greeting"] or b"")
    reply_line = spec["reply"].split(b"\r\n")[0].decode()
    c, srv = tcp.ends["client"], tcp.ends["server"]
    end, end_by = tcp.ending()
    facts = {
        "file": name + ".pcap",
        "linktype": LINKTYPE_ETHERNET,
        "packets": len(tcp.packets),
        "doc": spec["doc"],
        "libssl_error": failure,
        "connections": [{
            "client": {"ip": c.ip_text, "port": c.port},
            "server": {"ip": srv.ip_text, "port": srv.port},
            "first_frame": 1,
            "last_frame": len(tcp.packets),
            "client_hello_frame": tcp.frame_of("client", 0),
            "server_hello_frame": None,
            "hello_retry_request_frame": None,
            "sni": spec["sni"],
            "alpn_offered": [],
            "alpn_selected": None,
            "version": None,
            "cipher": None,
            "cert_files": [],
            "certs_visible": True,
            "server_key_file": None,
            "server_chain_files": [],
            "server_keylog": None,
            "client_finished_frame": None,
            "server_finished_frame": None,
            "alerts": [],
            "handshake_completed": False,
            "end": end,
            "end_by": end_by,
            "plain_text": {
                "greeting": ({"frame": tcp.frame_of("server", 0),
                              "text": spec["greeting"].split(b"\r\n")[0].decode()}
                             if spec["greeting"] else None),
                "reply": {"frame": tcp.frame_of("server", greeting_len),
                          "text": reply_line},
            },
        }],
    }
    if spec["starttls"]:
        facts["connections"][0]["starttls"] = spec["starttls"]
        facts["connections"][0]["starttls_frame"] = None
    path = os.path.join(HERE, name + ".pcap")
    write_pcap(path, LINKTYPE_ETHERNET,
               [(pk.ts, frame_ethernet(pk.ip, pk.side)) for pk in tcp.packets])
    write_facts(os.path.join(HERE, name + ".facts.json"), facts)
    print("wrote %-40s %3d packets" % (name + ".pcap", len(tcp.packets)))


# HTTP's upgrade to TLS within a connection (RFC 2817 §3.2, §3.3), as IPP
# printers offer it on port 631: OPTIONS with "Upgrade: TLS/1.0", the
# server's 101 Switching Protocols, then TLS from both sides.
HTTP_UPGRADE_SCRIPT = [
    ("client", b"OPTIONS * HTTP/1.1\r\nHost: server.example:631\r\n"
               b"Upgrade: TLS/1.2, TLS/1.1, TLS/1.0\r\nConnection: Upgrade\r\n\r\n"),
    ("server", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.2, HTTP/1.1\r\n"
               b"Connection: Upgrade\r\n\r\n"),
]


def scenario_http_upgrade():
    """RFC 2817 upgrade, then TLS 1.2 as in smtp-starttls with an IPP
    request inside (its HTTP header only)."""
    return starttls_connection("http-upgrade-tls", "HTTP", 40061, 631,
                               HTTP_UPGRADE_SCRIPT,
                               b"POST /ipp/print HTTP/1.1\r\nContent-Type: application/ipp\r\n"
                               b"Content-Length: 0\r\n\r\n",
                               b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


# HAProxy's PROXY protocol (proxy-protocol.txt): a load balancer puts a
# header with the client's own address before the client's bytes. v1 is a
# text line (§2.1); v2 the 12-byte signature, version/command 0x21 (v2,
# PROXY), family 0x11 (TCP over IPv4), the length, the addresses and ports,
# then TLVs (§2.2; here PP2_TYPE_AUTHORITY 0x02, the host name the client
# asked for).
PROXY_V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY_CLIENT = ("203.0.113.7", 51234)


def proxy_v1(dst_ip, dst_port):
    return ("PROXY TCP4 %s %s %d %d\r\n" % (PROXY_CLIENT[0], dst_ip, PROXY_CLIENT[1],
                                             dst_port)).encode()


def proxy_v2(dst_ip, dst_port, authority):
    body = (socket.inet_aton(PROXY_CLIENT[0]) + socket.inet_aton(dst_ip) +
            struct.pack("!HH", PROXY_CLIENT[1], dst_port) +
            struct.pack("!BH", 0x02, len(authority)) + authority)
    return PROXY_V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def proxy_facts(version, frame, dst_ip, dst_port):
    return {"version": version, "frame": frame,
            "client": {"ip": PROXY_CLIENT[0], "port": PROXY_CLIENT[1]},
            "server": {"ip": dst_ip, "port": dst_port}}


def scenario_proxy_v2():
    """A PROXY v2 header in its own segment, then TLS 1.2 as in
    smtp-starttls to a server that expects it (the header does not reach
    libssl), one HTTP request and response, a clean close."""
    header = proxy_v2(SERVER_V4, 443, b"server.example")
    sample = starttls_connection("proxy-v2", "PROXY", 40059, 443, [("client", header)],
                                 b"GET / HTTP/1.1\r\nHost: server.example\r\n\r\n",
                                 b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    sample.extra["proxy"] = proxy_facts(2, sample.extra["starttls_frame"], SERVER_V4, 443)
    return sample


def scenario_proxy_not_expected():
    """A PROXY v1 header, then a ClientHello, to a libssl server that does
    not expect the header: it fails (wrong version number), sends nothing
    and closes."""
    name = "proxy-not-expected"
    cctx = client_context(ssl.TLSVersion.TLSv1_2, keylog_for(name))
    sctx = server_context(ssl.TLSVersion.TLSv1_2, "server.example-chain.pem",
                          "server.example.key")
    bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(bio_in, bio_out, server_side=False, server_hostname="server.example")
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = bio_out.read()
    tcp = TcpConnection(40060)
    tcp.open()
    srv = tcp.ends["server"]
    header = proxy_v1(srv.ip_text, srv.port)
    tcp.send("client", header)
    tcp.send("client", hello)
    s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    s_in.write(header + hello)
    try:
        server.do_handshake()
        raise AssertionError(name + ": libssl took the PROXY header")
    except ssl.SSLError as e:
        failure = e.reason
    assert not s_out.pending, name          # no alert
    tcp.fin("server")
    tcp.fin("client")
    tcp.ack("server")
    assert "CLIENT_RANDOM" not in open(keylog_for(name)).read(), name
    c = tcp.ends["client"]
    end, end_by = tcp.ending()
    frame = tcp.frame_of("client", len(header) - 1)
    facts = {
        "file": name + ".pcap", "linktype": LINKTYPE_ETHERNET, "packets": len(tcp.packets),
        "libssl_error": failure,
        "connections": [{
            "client": {"ip": c.ip_text, "port": c.port},
            "server": {"ip": srv.ip_text, "port": srv.port},
            "first_frame": 1, "last_frame": len(tcp.packets),
            "client_hello_frame": tcp.frame_of("client", len(header)),
            "server_hello_frame": None, "hello_retry_request_frame": None,
            "sni": "server.example", "alpn_offered": [], "alpn_selected": None,
            "version": None, "cipher": None, "cert_files": [], "certs_visible": True,
            "server_key_file": None, "server_chain_files": [], "server_keylog": None,
            "client_finished_frame": None, "server_finished_frame": None, "alerts": [],
            "handshake_completed": False, "end": end, "end_by": end_by,
            "starttls": "PROXY", "starttls_frame": frame,
            "proxy": proxy_facts(1, frame, srv.ip_text, srv.port),
        }],
    }
    write_pcap(os.path.join(HERE, name + ".pcap"), LINKTYPE_ETHERNET,
               [(pk.ts, frame_ethernet(pk.ip, pk.side)) for pk in tcp.packets])
    write_facts(os.path.join(HERE, name + ".facts.json"), facts)
    print("wrote %-40s %3d packets" % (name + ".pcap", len(tcp.packets)))


# Android's debug bridge over TCP (wireless debugging), AOSP adb
# protocol.txt: each message is a 24-byte header of six little-endian words
# (command, arg0, arg1, data_length, data checksum, magic = command ^
# 0xffffffff) and data_length bytes of payload. The host sends CONNECT; the
# device, which requires TLS, answers STLS(A_STLS_VERSION); the host answers
# STLS too, and starts the TLS handshake as the client.
ADB_A_CNXN, ADB_A_STLS = 0x4E584E43, 0x534C5453
ADB_A_OPEN, ADB_A_OKAY = 0x4E45504F, 0x59414B4F
ADB_A_VERSION, ADB_A_STLS_VERSION = 0x01000001, 0x01000000
ADB_MAXDATA = 256 * 1024
ADB_PORT = 5555


def adb_message(command, arg0, arg1, data=b""):
    # protocol.txt calls the fifth word data_crc32; adb computes it as the
    # sum of the payload's bytes
    return struct.pack("<6I", command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF,
                       command ^ 0xFFFFFFFF) + data


ADB_SCRIPT = [
    ("client", adb_message(ADB_A_CNXN, ADB_A_VERSION, ADB_MAXDATA,
                           b"host::features=shell_v2,cmd,stat_v2\x00")),
    ("server", adb_message(ADB_A_STLS, ADB_A_STLS_VERSION, 0)),
    ("client", adb_message(ADB_A_STLS, ADB_A_STLS_VERSION, 0)),
]


def scenario_adb_stls():
    """ADB CONNECT, STLS from the device, STLS from the host, then TLS; one
    OPEN and its OKAY inside TLS."""
    return starttls_connection("adb-stls", "ADB", 40055, ADB_PORT, ADB_SCRIPT,
                               adb_message(ADB_A_OPEN, 1, 0, b"shell:id\x00"),
                               adb_message(ADB_A_OKAY, 2, 1))


# NoMachine's NX protocol on port 4000 (no public specification): the
# client's version line, the server's, then TLS with the client's
# ClientHello, as a NoMachine 8 client and server do it.
NX_PORT = 4000
NX_SCRIPT = [
    ("client", b"NXSH-8.10.1\n"),
    ("server", b"NXD-8.10.1\n"),
]


def scenario_nomachine_nx():
    """The NX version lines, then TLS; one line each way inside TLS."""
    return starttls_connection("nomachine-nx", "NoMachine", 40056, NX_PORT, NX_SCRIPT,
                               b"NX> hello\n", b"NX> 105\n")


def make_starttls(proto):
    server_port, script, (request, response) = STARTTLS_SCRIPTS[proto]
    name = proto.lower() + "-starttls"
    write_sample(starttls_connection(name, proto, STARTTLS_PORTS[proto], server_port, script,
                                     request, response), name + ".pcap")


def in_child_with_tls13_suites(suites, name, make):
    """Runs make() here when libssl was configured with these TLS 1.3
    suites, else this script again for `name` alone, with them."""
    if os.environ.get(TLS13_SUITES_ENV) == suites:
        make()
        return
    env = dict(os.environ)
    env[TLS13_SUITES_ENV] = suites
    subprocess.run([sys.executable, os.path.abspath(__file__), name], env=env,
                   check=True)


# ---------------------------------------------------------------------------

# Scenarios that can be made one at a time: make-samples.py NAME ...
ONE_BY_ONE = {
    "link-encap": lambda: scenario_link_encap(),
    "link-capwap": lambda: scenario_link_capwap(),
    "smtp-starttls": lambda: write_sample(scenario_smtp_starttls(), "smtp-starttls.pcap"),
    "tls12-cbc-etm": lambda: write_sample(scenario_tls12_cbc_etm(), "tls12-cbc-etm.pcap"),
    "tls12-rsa-cbc-mte": lambda: write_sample(scenario_tls12_rsa_cbc_mte(),
                                              "tls12-rsa-cbc-mte.pcap"),
    "tls12-finished-tampered": lambda: write_sample(scenario_tls12_finished_tampered(),
                                                    "tls12-finished-tampered.pcap"),
    "tls13-chacha": lambda: in_child_with_tls13_suites(
        "TLS_CHACHA20_POLY1305_SHA256", "tls13-chacha",
        lambda: write_sample(scenario_tls13_chacha(), "tls13-chacha.pcap")),
    "tls13-hrr": lambda: write_sample(scenario_tls13_hrr(), "tls13-hrr.pcap"),
    "tls12-sni-cert-change": scenario_tls12_sni_cert_change,
    "tls12-chain-broken": lambda: write_sample(scenario_tls12_chain_broken(),
                                               "tls12-chain-broken.pcap"),
    "tls10": lambda: write_sample(scenario_tls10(), "tls10.pcap"),
    "tls11": lambda: write_sample(scenario_tls11(), "tls11.pcap"),
    "tls12-resume-session-id": lambda: make_resumption(
        "tls12-resume-session-id", 40017, ssl.TLSVersion.TLSv1_2, "session_id",
        "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    "tls12-resume-ticket": lambda: make_resumption(
        "tls12-resume-ticket", 40019, ssl.TLSVersion.TLSv1_2, "ticket",
        "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    "tls13-resume-psk": lambda: make_resumption(
        "tls13-resume-psk", 40021, ssl.TLSVersion.TLSv1_3, "psk", None,
        "TLS_AES_128_GCM_SHA256"),
    "tls12-renegotiation": lambda: write_sample(scenario_tls12_renegotiation(),
                                                "tls12-renegotiation.pcap"),
    "tls12-client-cert": lambda: write_sample(scenario_tls12_client_cert(),
                                              "tls12-client-cert.pcap"),
    "starttls": lambda: [make_starttls(p) for p in STARTTLS_SCRIPTS],
    "adb-stls": lambda: write_sample(scenario_adb_stls(), "adb-stls.pcap"),
    "nomachine-nx": lambda: write_sample(scenario_nomachine_nx(), "nomachine-nx.pcap"),
    "plain-servers": lambda: [scenario_plain_server(n) for n in PLAIN_SERVERS],
    "http-upgrade-tls": lambda: write_sample(scenario_http_upgrade(), "http-upgrade-tls.pcap"),
    "proxy": lambda: [write_sample(scenario_proxy_v2(), "proxy-v2.pcap"),
                      scenario_proxy_not_expected()],
    "tls12-ocsp-stapled": lambda: write_sample(scenario_tls12_ocsp_stapled(),
                                               "tls12-ocsp-stapled.pcap"),
    "tls13-aes256": lambda: in_child_with_tls13_suites(
        "TLS_AES_256_GCM_SHA384", "tls13-aes256",
        lambda: write_sample(scenario_tls13_aes256(), "tls13-aes256.pcap")),
}


# ---------------------------------------------------------------------------
# Tunnels and IP fragments: the packets of an existing capture (the same TLS
# bytes, not a new handshake), framed again. Made with
# `python3 samples/make-samples.py link-encap`; the originals stay as they are.

LINKTYPE_PPP = 9
# tunnel endpoints in 10.99.0.0/24: not the documentation ranges, which
# --redact uses for its pseudonyms
OUTER_V4 = {"client": (bytes([10, 99, 0, 1]), bytes([10, 99, 0, 2])),
            "server": (bytes([10, 99, 0, 2]), bytes([10, 99, 0, 1]))}
OUTER_MACS = (bytes.fromhex("020000000a01"), bytes.fromhex("020000000a02"))


def read_pcap(path):
    """(linktype, [(timestamp_us, bytes)]) of a little-endian microsecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4, path
    frames, i = [], 24
    while i < len(data):
        sec, usec, caplen, _ = struct.unpack("<IIII", data[i:i + 16])
        frames.append((sec * 1000000 + usec, data[i + 16:i + 16 + caplen]))
        i += 16 + caplen
    return linktype, frames


def ip_packets_of(name):
    """[(ts, side, ip)] of an Ethernet sample, side from the source MAC."""
    linktype, frames = read_pcap(os.path.join(HERE, name + ".pcap"))
    assert linktype == LINKTYPE_ETHERNET
    out = []
    for ts, frame in frames:
        side = "client" if frame[6:12] == CLIENT_MAC else "server"
        out.append((ts, side, frame[14:]))
    return out


def outer_ipv4(side, proto, payload, ident=0x4000):
    src, dst = OUTER_V4[side]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                         0x4000, 64, proto, 0, src, dst)
    return header[:10] + struct.pack("!H", inet_checksum(header)) + header[12:] + payload


def outer_ethernet(side, ethertype, payload):
    src, dst = OUTER_MACS if side == "client" else OUTER_MACS[::-1]
    return dst + src + struct.pack("!H", ethertype) + payload


def outer_udp(side, dport, payload, sport=49152):
    # UDP checksum 0 (none), as RFC 7348 §5 recommends for VXLAN over IPv4
    return outer_ipv4(side, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def frame_mpls(ip, side):
    # two labels (RFC 3032): 1000, then 2000 with bottom of stack, TTL 64
    labels = struct.pack("!II", 1000 << 12 | 64, 2000 << 12 | 1 << 8 | 64)
    return outer_ethernet(side, 0x8847, labels + ip)


def frame_pppoe(ip, side):
    ppp = struct.pack("!H", 0x0021 if ip[0] >> 4 == 4 else 0x0057) + ip
    return outer_ethernet(side, 0x8864, struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp)) + ppp)


def frame_ppp(ip, side):
    # DLT_PPP with the HDLC-like address and control bytes (RFC 1662)
    return struct.pack("!BBH", 0xFF, 0x03, 0x0021 if ip[0] >> 4 == 4 else 0x0057) + ip


def frame_gre(ip, side):
    # RFC 2890: key 42 and a sequence number present
    gre = struct.pack("!HHII", 0x3000, ethertype_of(ip), 42, 7)
    return outer_ethernet(side, 0x0800, outer_ipv4(side, 47, gre + ip))


def frame_erspan2(ip, side):
    # GRE with S, protocol 0x88BE, ERSPAN II header (version 1, VLAN 0,
    # session 5, index 0), then the mirrored Ethernet frame
    gre = struct.pack("!HHI", 0x1000, 0x88BE, 1)
    erspan = struct.pack("!HHI", 1 << 12, 5, 0)
    return outer_ethernet(side, 0x0800, outer_ipv4(side, 47, gre + erspan + frame_ethernet(ip, side)))


def frame_vxlan(ip, side):
    vxlan = struct.pack("!II", 0x08000000, 5000 << 8)           # I flag, VNI 5000
    return outer_ethernet(side, 0x0800, outer_udp(side, 4789, vxlan + frame_ethernet(ip, side)))


def frame_geneve(ip, side):
    # one 8-byte option (class 0x0102, type 0x80, 4 bytes of data)
    option = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\x00\x00\x00\x01"
    geneve = struct.pack("!BBHI", len(option) // 4, 0, 0x6558, 6000 << 8) + option
    return outer_ethernet(side, 0x0800, outer_udp(side, 6081, geneve + frame_ethernet(ip, side)))


# CAPWAP (RFC 5415): the access point (WTP) is the outer 10.99.0.1, the
# controller (AC) 10.99.0.2; the TLS client is a wireless station behind the
# access point, the server on the controller's wired side.
CAPWAP_DATA_PORT = 5247
AP_BSSID = bytes.fromhex("02000000000b")
LINKTYPE_IEEE802_11 = 105
wlan_seq = {"client": 0, "server": 0}


def capwap_header(side, t_wbid):
    """RFC 5415 §4.3 header. t_wbid: (T, WBID). From the access point it
    carries a Radio MAC Address (M) and the IEEE 802.11 Frame Info of
    RFC 5416 §6.1 as Wireless Specific Information (W), each padded to 4
    bytes and counted in HLEN; from the controller neither."""
    t, wbid = t_wbid
    optional = b""
    m = w = 0
    if side == "client":
        optional += bytes([6]) + AP_BSSID + b"\x00"           # length, MAC, pad
        optional += bytes([4]) + struct.pack("!BBH", 0xC4, 30, 130) + b"\x00" * 3  # RSSI -60, SNR, rate
        m = w = 1
    hlen = (8 + len(optional)) // 4
    bits = hlen << 19 | 0 << 14 | wbid << 9 | t << 8 | w << 5 | m << 4
    return struct.pack("!BBHHH", 0, bits >> 16, bits & 0xFFFF, 0, 0) + optional


def wlan_qos_data(ip, side):
    """IEEE 802.11-2020 §9.3.2.1 QoS Data frame (type 2, subtype 8) with
    LLC/SNAP (RFC 1042). Station to AP: To DS, Address 1 the BSSID, 2 the
    source (the client), 3 the destination (the server). AP to station:
    From DS, Address 1 the destination, 2 the BSSID, 3 the source."""
    src, dst = macs(side)
    if side == "client":
        flags, a1, a2, a3 = 0x01, AP_BSSID, src, dst
    else:
        flags, a1, a2, a3 = 0x02, dst, AP_BSSID, src
    seq = wlan_seq[side]
    wlan_seq[side] = (seq + 1) & 0xFFF
    header = (bytes([0x88, flags]) + struct.pack("<H", 0) + a1 + a2 + a3
              + struct.pack("<H", seq << 4) + struct.pack("<H", 0))    # QoS Control: TID 0
    snap = bytes([0xAA, 0xAA, 0x03, 0, 0, 0]) + struct.pack("!H", ethertype_of(ip))
    return header + snap + ip


def capwap_ports(side):
    # the WTP's ephemeral port to the AC's data port, and back
    return (49152, CAPWAP_DATA_PORT) if side == "client" else (CAPWAP_DATA_PORT, 49152)


def frame_capwap(ip, side):
    sport, dport = capwap_ports(side)
    payload = capwap_header(side, (1, 1)) + wlan_qos_data(ip, side)    # T=1, WBID 1: 802.11
    return outer_ethernet(side, 0x0800, outer_udp(side, dport, payload, sport))


def frame_capwap_eth(ip, side):
    sport, dport = capwap_ports(side)
    payload = capwap_header(side, (0, 1)) + frame_ethernet(ip, side)    # T=0: an 802.3 frame
    return outer_ethernet(side, 0x0800, outer_udp(side, dport, payload, sport))


def frame_wlan(ip, side):
    # LINKTYPE_IEEE802_11: the 802.11 frame alone, no FCS
    return wlan_qos_data(ip, side)


def frame_ipip(ip, side):
    # IPv4 in IPv4 (protocol 4), IPv6 in IPv4 (protocol 41)
    return outer_ethernet(side, 0x0800, outer_ipv4(side, 4 if ip[0] >> 4 == 4 else 41, ip))


def fragment_ip(ip, chunk):
    """The IP packet split into fragments of chunk bytes of payload (a
    multiple of 8; RFC 791 §3.2, RFC 8200 §4.5)."""
    assert chunk % 8 == 0
    out = []
    if ip[0] >> 4 == 4:
        hlen = (ip[0] & 15) * 4
        payload = ip[hlen:]
        for off in range(0, len(payload), chunk):
            part = payload[off:off + chunk]
            more = off + chunk < len(payload)
            h = bytearray(ip[:hlen])
            struct.pack_into("!H", h, 2, hlen + len(part))
            struct.pack_into("!H", h, 6, (off // 8) | (0x2000 if more else 0))
            struct.pack_into("!H", h, 10, 0)
            struct.pack_into("!H", h, 10, inet_checksum(bytes(h)))
            out.append(bytes(h) + part)
    else:
        assert ip[6] == 6                    # no extension headers in the samples
        payload = ip[40:]
        ident = 0x5A5A0001
        for off in range(0, len(payload), chunk):
            part = payload[off:off + chunk]
            more = off + chunk < len(payload)
            frag = struct.pack("!BBHI", 6, 0, off | (1 if more else 0), ident)
            h = bytearray(ip[:40])
            struct.pack_into("!H", h, 4, len(frag) + len(part))
            h[6] = 44
            out.append(bytes(h) + frag + part)
    return out


def remap_frames(conn, old, new):
    """Frame numbers of a connection's facts after frame `old` became
    frames old..new (the one the reassembly completes at is new)."""
    def m(f):
        if f is None or f < old:
            return f
        return f + (new - old)
    for key in ("first_frame", "last_frame", "client_hello_frame", "server_hello_frame",
                "client_finished_frame", "server_finished_frame", "starttls_frame"):
        if key in conn:
            conn[key] = m(conn[key]) if key != "first_frame" else conn[key]
    for a in conn["alerts"]:
        a["frame"] = m(a["frame"])


def write_rewrapped(base, suffix, framing, linktype, encap, fragments=None):
    """samples/link/<base>-<suffix>.pcap: base's packets through framing.
    fragments=(chunk, order): the ClientHello's packet is sent as IP
    fragments, in that order of fragment indexes ("reverse" or None)."""
    packets = ip_packets_of(base)
    with open(os.path.join(HERE, base + ".facts.json")) as f:
        facts = json.load(f)
    conn = facts["connections"][0]
    ch = conn["client_hello_frame"]
    frames = []
    for n, (ts, side, ip) in enumerate(packets, 1):
        if fragments and n == ch:
            chunk, order = fragments
            parts = fragment_ip(ip, chunk)
            if order == "reverse":
                parts = parts[::-1]
            for k, part in enumerate(parts):
                frames.append((ts + k * 20, framing(part, side)))
            remap_frames(conn, ch, ch + len(parts) - 1)
            facts["ip_fragments"] = len(parts)
        else:
            frames.append((ts, framing(ip, side)))
    relpath = "link/%s-%s.pcap" % (base, suffix)
    write_pcap(os.path.join(HERE, relpath), linktype, frames)
    facts["file"] = os.path.basename(relpath)
    facts["linktype"] = linktype
    facts["packets"] = len(frames)
    conn["last_frame"] = len(frames)
    conn["encapsulation"] = encap
    write_facts(os.path.join(HERE, "link/%s-%s.facts.json" % (base, suffix)), facts)
    shutil.copyfile(keylog_for(base), keylog_for("link/%s-%s" % (base, suffix)))
    print("wrote %-40s %3d packets" % (relpath, len(frames)))


def scenario_link_encap():
    v4, v6 = "tls12-ecdhe-ok", "tls12-ipv6-reordered"
    for base, suffix, framing, linktype, encap in (
            (v4, "mpls", frame_mpls, LINKTYPE_ETHERNET, ["mpls"]),
            (v4, "pppoe", frame_pppoe, LINKTYPE_ETHERNET, ["pppoe"]),
            (v4, "ppp", frame_ppp, LINKTYPE_PPP, ["ppp"]),
            (v4, "gre", frame_gre, LINKTYPE_ETHERNET, ["gre"]),
            (v4, "erspan2", frame_erspan2, LINKTYPE_ETHERNET, ["gre", "erspan"]),
            (v4, "vxlan", frame_vxlan, LINKTYPE_ETHERNET, ["vxlan"]),
            (v4, "geneve", frame_geneve, LINKTYPE_ETHERNET, ["geneve"]),
            (v4, "ipip", frame_ipip, LINKTYPE_ETHERNET, ["ip-in-ip"]),
            (v6, "6in4", frame_ipip, LINKTYPE_ETHERNET, ["ip-in-ip"])):
        write_rewrapped(base, suffix, framing, linktype, encap)
    # The ClientHello in IP fragments: IPv4 in order, IPv4 and IPv6 last
    # fragment first.
    write_rewrapped(v4, "frag", frame_ethernet, LINKTYPE_ETHERNET, [], (64, None))
    write_rewrapped(v4, "frag-reversed", frame_ethernet, LINKTYPE_ETHERNET, [], (64, "reverse"))
    write_rewrapped(v6, "frag-reversed", frame_ethernet, LINKTYPE_ETHERNET, [], (64, "reverse"))


def scenario_link_capwap():
    """The CAPWAP and 802.11 variants alone:
    `python3 samples/make-samples.py link-capwap`."""
    v4, v6 = "tls12-ecdhe-ok", "tls12-ipv6-reordered"
    for base, suffix, framing, linktype, encap in (
            (v4, "capwap", frame_capwap, LINKTYPE_ETHERNET, ["capwap", "802.11"]),
            (v6, "capwap-eth", frame_capwap_eth, LINKTYPE_ETHERNET, ["capwap"]),
            (v4, "wlan", frame_wlan, LINKTYPE_IEEE802_11, ["802.11"])):
        wlan_seq.update(client=0, server=0)
        write_rewrapped(base, suffix, framing, linktype, encap)


def main():
    if not os.path.exists(key_path("server.example.pem")):
        sys.exit("make-samples.py: run samples/make-certs.sh first")
    if len(sys.argv) > 1:
        for name in sys.argv[1:]:
            if name not in ONE_BY_ONE:
                sys.exit("make-samples.py: no scenario %r (have: %s)"
                         % (name, ", ".join(sorted(ONE_BY_ONE))))
            ONE_BY_ONE[name]()
        return

    ok12 = scenario_tls12_ecdhe_ok()
    write_sample(ok12, "tls12-ecdhe-ok.pcap")
    write_sample(scenario_tls13_ok(), "tls13-ok.pcapng", pcapng=True)
    write_sample(scenario_tls12_unknown_ca(), "tls12-unknown-ca.pcap")
    write_sample(scenario_tls13_unknown_ca(), "tls13-unknown-ca.pcap")
    write_sample(scenario_tls13_unknown_ca_cleartext(),
                 "tls13-unknown-ca-cleartext.pcap")
    write_sample(scenario_tls12_rsa_key_mismatch(), "tls12-rsa-key-mismatch.pcap")
    write_sample(scenario_tls12_ipv6_reordered(), "tls12-ipv6-reordered.pcap")
    for make in ONE_BY_ONE.values():
        make()

    # The same connection as tls12-ecdhe-ok.pcap, other link layers.
    for suffix, framing, linktype in (
            ("vlan", frame_vlan, LINKTYPE_ETHERNET),
            ("sll", frame_sll, LINKTYPE_LINUX_SLL),
            ("null", frame_null, LINKTYPE_NULL),
            ("raw", frame_raw, LINKTYPE_RAW)):
        name = "link/tls12-ecdhe-ok-%s" % suffix
        write_sample(ok12, name + ".pcap", framing, linktype)
        shutil.copyfile(keylog_for("tls12-ecdhe-ok"), keylog_for(name))


if __name__ == "__main__":
    main()
