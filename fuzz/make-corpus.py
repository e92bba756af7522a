#!/usr/bin/env python3
"""make-corpus.py - builds the seed corpus of every fuzz target from samples/.

    python3 fuzz/make-corpus.py        (from the top of the repository)

Needs tshark (the TCP streams) and openssl (certificate DER). Writes
fuzz/corpus/<target>/seed-*; regression inputs (regress-*, inputs that
once crashed) are added by hand beside them and are left alone.

  pipeline  the sample captures themselves
  tls       each sample connection's two reassembled streams in the
            fuzz_tls.c layout: seed (2), flags (1), client length (3),
            client stream, server stream; and, for samples with a key log,
            flags bit 1 with the key log (2-byte length, text) before the
            streams, so the decryption path is fuzzed from real secrets
  keylog    the samples' key logs (fuzz_keylog.c), plus hand-made ones
  reasm     a few segment scripts in the fuzz_reasm.c layout
  x509      the DER of every certificate in samples/keys/
  decode    single packets (SYN and ClientHello) of each pcap sample
  capture   three samples as classic pcap in each layout read in place
            (little- and big-endian, micro- and nanoseconds), cut inside a
            record header and inside a frame, with a frame longer than the
            snapshot length; as pcapng: both byte orders, other time units
            and offsets, blocks skipped, a second interface, a Simple
            Packet Block, cuts (capture_variants())
"""
import glob
import os
import struct
import subprocess

OUT = "fuzz/corpus"


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def samples():
    return sorted(glob.glob("samples/*.pcap*") + glob.glob("samples/link/*.pcap"))


def streams(path):
    """(client bytes, server bytes) of TCP stream 0, by tshark's follow."""
    out = subprocess.run(["tshark", "-r", path, "-q", "-z", "follow,tcp,raw,0"],
                         capture_output=True, text=True, check=True).stdout
    c, s = b"", b""
    for line in out.splitlines():
        if not line or line.startswith(("=", "Follow", "Filter", "Node")):
            continue
        if line.startswith("\t"):
            s += bytes.fromhex(line.strip())
        else:
            c += bytes.fromhex(line.strip())
    return c, s


def pcap_packets(path):
    """Packet bytes of a classic pcap file (not pcapng)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return []
    off, pkts = 24, []
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkts.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return pkts


def main():
    for path in samples():
        name = os.path.basename(path)
        with open(path, "rb") as f:
            put("pipeline", name, f.read())
        if "/link/" not in path:
            c, s = streams(path)
            for seed, flags in ((0x0102, 0), (0x0bad, 1)):
                hdr = struct.pack(">HB", seed, flags) + len(c).to_bytes(3, "big")
                put("tls", "%s-%04x" % (name, seed), hdr + c + s)
            keylog = path.rsplit(".", 1)[0] + ".keylog"
            if os.path.exists(keylog):
                with open(keylog, "rb") as f:
                    kl = f.read()
                hdr = struct.pack(">HB", 0x5eed, 2) + len(c).to_bytes(3, "big")
                put("tls", "%s-keylog" % name, hdr + len(kl).to_bytes(2, "big") + kl + c + s)
        pkts = pcap_packets(path)
        for i in (0, 3):
            if i < len(pkts):
                put("decode", "%s-%d" % (name, i + 1), pkts[i])
    for pem in sorted(glob.glob("samples/keys/*.pem")):
        if "chain" in pem:
            continue
        der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        put("x509", os.path.basename(pem)[:-4] + ".der", der)
    capture_variants()
    # reasm: isn, max_held_segs, max_held_bytes, flags; then 6-byte ops
    # (flags, 24-bit offset, 16-bit length)
    def op(flags, off, length):
        return bytes([flags]) + off.to_bytes(3, "big") + length.to_bytes(2, "big")
    hdr = lambda isn, segs, held, syn: struct.pack(">IBHB", isn, segs, held, syn)
    put("reasm", "in-order", hdr(1000, 16, 4096, 1) + op(0, 1, 100) + op(0, 101, 100) + op(1, 201, 10))
    put("reasm", "reversed", hdr(5, 16, 4096, 1) + op(0, 201, 100) + op(0, 101, 100) + op(0, 1, 100))
    put("reasm", "wrap", hdr(0xffffff00, 8, 2048, 0) + op(0, 0, 200) + op(0, 400, 100) + op(2, 150, 300) + op(0, 200, 200))
    put("reasm", "over-cap", hdr(77, 2, 300, 1) + op(0, 1000, 200) + op(0, 2000, 200) + op(0, 3000, 200) + op(1, 1, 10))
    put("reasm", "syn-restart", hdr(9, 4, 1000, 1) + op(0, 1, 10) + op(0x10, 5000, 0) + op(0, 5001, 10))


def rewrite(data, endian, nsec, snaplen=None):
    """A little-endian microsecond pcap rewritten in endian ("<" or ">"),
    with nanoseconds (usec * 1000 + 999) when nsec, and another snapshot
    length in the file header when snaplen is given."""
    magic, vmaj, vmin, zone, sigfigs, snap, link = struct.unpack("<IHHiIII", data[:24])
    out = struct.pack(endian + "IHHiIII", 0xa1b23c4d if nsec else 0xa1b2c3d4, vmaj, vmin,
                      zone, sigfigs, snaplen if snaplen is not None else snap, link)
    off = 24
    while off + 16 <= len(data):
        sec, usec, caplen, wire = struct.unpack("<IIII", data[off:off + 16])
        frac = usec * 1000 + 999 if nsec else usec
        out += struct.pack(endian + "IIII", sec, frac, caplen, wire)
        out += data[off + 16:off + 16 + caplen]
        off += 16 + caplen
    return out


def ng_block(endian, btype, body):
    """A pcapng block (draft-ietf-opsawg-pcapng §3.1): type, total length,
    the body padded to 32 bits, the length again."""
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def ng_option(endian, code, value):
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def to_pcapng(data, endian, tsresol=None, tsoffset=0, junk=False, second_idb=False, spb=False):
    """A little-endian microsecond pcap as pcapng: a Section Header Block,
    one Interface Description Block (if_tsresol 10^-tsresol when given,
    if_tsoffset when not 0), an Enhanced Packet Block per record (its time
    in those units, less the offset); with junk, a Name Resolution, a
    custom and a statistics block between packets; with second_idb, a
    second interface after the second packet, and with spb a Simple Packet
    Block there (both read by libpcap)."""
    magic, vmaj, vmin, zone, sigfigs, snap, link = struct.unpack("<IHHiIII", data[:24])
    out = ng_block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = b""
    if tsresol is not None:
        opts += ng_option(endian, 9, bytes([tsresol]))
    if tsoffset:
        opts += ng_option(endian, 14, struct.pack(endian + "q", tsoffset))
    if opts:
        opts += ng_option(endian, 0, b"")
    idb = ng_block(endian, 1, struct.pack(endian + "HHI", link, 0, snap) + opts)
    out += idb
    units = 10 ** (tsresol if tsresol is not None else 6)
    off, k = 24, 0
    while off + 16 <= len(data):
        sec, usec, caplen, wire = struct.unpack("<IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        t = (sec - tsoffset) * units + usec * units // 10 ** 6
        out += ng_block(endian, 6, struct.pack(endian + "IIIII", 0, t >> 32, t & 0xFFFFFFFF,
                                              caplen, wire) + frame)
        if junk:
            out += ng_block(endian, 4, ng_option(endian, 0, b""))
            out += ng_block(endian, 0x00000BAD, struct.pack(endian + "I", 32473) + b"junk")
            out += ng_block(endian, 5, struct.pack(endian + "III", 0, 0, 0))
        if k == 1 and second_idb:
            out += idb
        if k == 1 and spb:
            out += ng_block(endian, 3, struct.pack(endian + "I", wire) + frame)
        off += 16 + caplen
        k += 1
    return out


def capture_variants():
    for name in ("tls12-rsa-key-mismatch.pcap", "tls13-hrr.pcap", "tls12-ipv6-reordered.pcap"):
        with open(os.path.join("samples", name), "rb") as f:
            data = f.read()
        base = name[:-5]
        put("capture", name, data)
        put("capture", base + "-be.pcap", rewrite(data, ">", False))
        put("capture", base + "-nsec.pcap", rewrite(data, "<", True))
        put("capture", base + "-be-nsec.pcap", rewrite(data, ">", True))
        first = struct.unpack("<I", data[32:36])[0]  # the first record's caplen
        put("capture", base + "-cut-header.pcap", data[:24 + 16 + first + 7])
        put("capture", base + "-cut-frame.pcap", data[:len(data) - 30])
        put("capture", base + "-snaplen-100.pcap", rewrite(data, "<", False, 100))
    with open("samples/tls13-ok.pcapng", "rb") as f:
        put("capture", "tls13-ok.pcapng", f.read())
    # pcapng read in place: both byte orders, time units and offsets,
    # blocks skipped, the hand-overs to libpcap, cuts
    with open("samples/tls12-rsa-key-mismatch.pcap", "rb") as f:
        data = f.read()
    base = "tls12-rsa-key-mismatch"
    put("capture", base + ".pcapng", to_pcapng(data, "<"))
    put("capture", base + "-be-nsec.pcapng", to_pcapng(data, ">", 9))
    put("capture", base + "-msec-offset.pcapng", to_pcapng(data, "<", 3, 1000))
    put("capture", base + "-be-offset-junk.pcapng", to_pcapng(data, ">", 6, 7, junk=True))
    put("capture", base + "-second-idb.pcapng", to_pcapng(data, "<", second_idb=True))
    put("capture", base + "-spb.pcapng", to_pcapng(data, ">", spb=True))
    ng = to_pcapng(data, "<", junk=True)
    put("capture", base + "-cut-header.pcapng", ng[:400 + 5])
    put("capture", base + "-cut-block.pcapng", ng[:len(ng) - 30])


if __name__ == "__main__":
    main()
