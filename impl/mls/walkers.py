"""RFC 9420 struct walkers: find where a nested struct ends, and copy it unchanged.

This module owns the structs a Delivery Service carries but does not interpret: KeyPackage,
LeafNode, Credential, Capabilities, Extension, PreSharedKeyID, ReInit, UpdatePath and its
HPKECiphertexts (RFC 9420 sections 5.3, 6.3, 7.2, 7.6, 8.4, 10, 12.1).  A Proposal or Commit
body is not length-prefixed, so the only way to find its end is to walk it.  Each `copy_*`
reads one struct from a `Reader` with the strict codec rules (impl.codec) and writes the same
struct to a `Writer`; the encoding is canonical, so the bytes written are the bytes read.
`capture` returns those bytes, `validate` checks that a byte string is exactly one such struct.
Code points RFC 9420 does not define (credential types, leaf node sources, PSK types) are a
`DecodeError` "invalid-value": the length of what follows them cannot be known.  The framing
structs that use these walkers are in impl.mls.framing.
"""

from __future__ import annotations

from collections.abc import Callable

from ..codec import DecodeError, Reader, Writer

__all__ = [
    "Copier",
    "capture",
    "copy_extension",
    "copy_extensions",
    "copy_external_init",
    "copy_key_package",
    "copy_leaf_node",
    "copy_psk_id",
    "copy_reinit",
    "copy_remove",
    "copy_update_path",
    "pull_extensions_content",
    "validate",
]

#: Reads one struct from the Reader and writes the same struct to the Writer.
Copier = Callable[[Reader, Writer], None]


def capture(r: Reader, copy: Copier) -> bytes:
    """The bytes of the one struct `copy` walks at the reader's position."""
    w = Writer()
    copy(r, w)
    return bytes(w)


def validate(data: bytes, copy: Copier, what: str) -> None:
    """Constructor helper: `data` must be exactly one struct (raises DecodeError, a ValueError)."""
    r = Reader(data)
    copy(r, Writer())
    r.finish(what)


def copy_opaque(r: Reader, w: Writer, what: str) -> None:
    w.push_opaque(r.pull_opaque(what))


def copy_vector(r: Reader, w: Writer, item: Copier, what: str) -> None:
    inner = Writer()
    r.pull_vector(lambda rr: item(rr, inner), what)
    w.push_opaque(bytes(inner))


def copy_uint16s(r: Reader, w: Writer, what: str) -> None:
    copy_vector(r, w, lambda rr, ww: ww.push_uint16(rr.pull_uint16(what)), what)


def copy_extension(r: Reader, w: Writer) -> None:
    w.push_uint16(r.pull_uint16("Extension.extension_type"))
    copy_opaque(r, w, "Extension.extension_data")


def copy_extensions(r: Reader, w: Writer) -> None:
    copy_vector(r, w, copy_extension, "extensions")


def pull_extensions_content(r: Reader, what: str) -> bytes:
    """An `Extension extensions<V>`, returned without its length header."""
    inner = Writer()
    r.pull_vector(lambda rr: copy_extension(rr, inner), what)
    return bytes(inner)


def copy_credential(r: Reader, w: Writer) -> None:
    kind = r.pull_uint16("Credential.credential_type")
    w.push_uint16(kind)
    if kind == 1:  # basic
        copy_opaque(r, w, "Credential.identity")
    elif kind == 2:  # x509
        copy_vector(
            r, w, lambda rr, ww: copy_opaque(rr, ww, "Certificate.cert_data"), "certificates"
        )
    else:
        raise DecodeError("invalid-value", f"Credential: unknown credential_type {kind}")


def copy_leaf_node(r: Reader, w: Writer) -> None:
    copy_opaque(r, w, "LeafNode.encryption_key")
    copy_opaque(r, w, "LeafNode.signature_key")
    copy_credential(r, w)
    for field in ("versions", "cipher_suites", "extensions", "proposals", "credentials"):
        copy_uint16s(r, w, f"Capabilities.{field}")
    source = r.pull_uint8("LeafNode.leaf_node_source")
    w.push_uint8(source)
    if source == 1:  # key_package: Lifetime
        w.push_uint64(r.pull_uint64("Lifetime.not_before"))
        w.push_uint64(r.pull_uint64("Lifetime.not_after"))
    elif source == 3:  # commit
        copy_opaque(r, w, "LeafNode.parent_hash")
    elif source != 2:  # update: nothing
        raise DecodeError("invalid-value", f"LeafNode: unknown leaf_node_source {source}")
    copy_extensions(r, w)
    copy_opaque(r, w, "LeafNode.signature")


def copy_key_package(r: Reader, w: Writer) -> None:
    w.push_uint16(r.pull_uint16("KeyPackage.version"))
    w.push_uint16(r.pull_uint16("KeyPackage.cipher_suite"))
    copy_opaque(r, w, "KeyPackage.init_key")
    copy_leaf_node(r, w)
    copy_extensions(r, w)
    copy_opaque(r, w, "KeyPackage.signature")


def copy_psk_id(r: Reader, w: Writer) -> None:
    kind = r.pull_uint8("PreSharedKeyID.psktype")
    w.push_uint8(kind)
    if kind == 1:  # external
        copy_opaque(r, w, "PreSharedKeyID.psk_id")
    elif kind == 2:  # resumption
        w.push_uint8(r.pull_uint8("PreSharedKeyID.usage"))
        copy_opaque(r, w, "PreSharedKeyID.psk_group_id")
        w.push_uint64(r.pull_uint64("PreSharedKeyID.psk_epoch"))
    else:
        raise DecodeError("invalid-value", f"PreSharedKeyID: unknown psktype {kind}")
    copy_opaque(r, w, "PreSharedKeyID.psk_nonce")


def copy_reinit(r: Reader, w: Writer) -> None:
    copy_opaque(r, w, "ReInit.group_id")
    w.push_uint16(r.pull_uint16("ReInit.version"))
    w.push_uint16(r.pull_uint16("ReInit.cipher_suite"))
    copy_extensions(r, w)


def copy_remove(r: Reader, w: Writer) -> None:
    w.push_uint32(r.pull_uint32("Remove.removed"))


def copy_external_init(r: Reader, w: Writer) -> None:
    copy_opaque(r, w, "ExternalInit.kem_output")


def copy_hpke_ciphertext(r: Reader, w: Writer) -> None:
    copy_opaque(r, w, "HPKECiphertext.kem_output")
    copy_opaque(r, w, "HPKECiphertext.ciphertext")


def copy_update_path_node(r: Reader, w: Writer) -> None:
    copy_opaque(r, w, "UpdatePathNode.encryption_key")
    copy_vector(r, w, copy_hpke_ciphertext, "UpdatePathNode.encrypted_path_secret")


def copy_update_path(r: Reader, w: Writer) -> None:
    copy_leaf_node(r, w)
    copy_vector(r, w, copy_update_path_node, "UpdatePath.nodes")
