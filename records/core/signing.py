"""The company's digital signature on the PDFs it issues: PAdES B-B with pyHanko (issue 18).

Generic plumbing, no domain words: what is signed, and when, is decided by the callers
(service_forms.archive, reports.quarterly, technical_notices, the dossier's download).

* The key: one PKCS#12 file (private key + certificate + chain, no passphrase, mode 0600) at
  ``AFTERSALES_SIGNING_KEY`` (default ``/etc/aftersales/signing-key.p12``): outside the data folder
  and so outside its backups (README: back it up apart). ``init_key`` makes a company key with a
  self-signed certificate (a start); ``import_p12`` takes one issued by the company's CA.
* Every certificate ever used is kept in the data folder (``signing-certs/<sha256>.pem``), so a
  document signed with an older key still verifies after a new key or an expiry.
* A signature is "有效" when pyHanko finds it intact and cryptographically valid over the whole
  file, and its certificate is one of those kept. No time-stamping authority and no OCSP: an
  intranet has none, so the signing time is the one the signer reports (PAdES B-B).
* Poppler's ``pdfsig`` checks the same files independently (tests; ``aftersales verify``).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from . import pdf as core_pdf
from .files import atomic_write

KEY_ENV = "AFTERSALES_SIGNING_KEY"
DEFAULT_KEY_PATH = Path("/etc/aftersales/signing-key.p12")
CERTS_DIR = "signing-certs"  # under the data folder
FIELD = "CompanySignature"
SIGNER_LABEL = "技质部"
STAMP_BOX = (330, 24, 566, 74)  # bottom right of the last A4 page, in points (clear of the page number)
STATUS_TEXT = {"valid": "签章有效", "invalid": "签章无效", "unsigned": "未签章"}


class SigningError(Exception):
    """The key cannot be made, read or imported (a Chinese message for the admin)."""


@dataclass(frozen=True)
class SigningKey:
    path: Path
    signer: signers.SimpleSigner
    certificate: x509.Certificate

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc


@dataclass(frozen=True)
class SignatureCheck:
    status: str  # "valid" | "invalid" | "unsigned"
    signer: str = ""  # the certificate's subject
    signed_at: str = ""  # ISO, as the signer reported it
    fingerprint: str = ""  # SHA-256 of the signing certificate
    message: str = ""  # why invalid, in Chinese

    @property
    def text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def summary(self) -> str:
        """What a reader is told: 「签章有效（signer，time）」, with the reason when it is not valid."""
        detail = f"（{self.signer}，{self.signed_at}）" if self.signer else ""
        return f"{self.text}{detail}" + (f"：{self.message}" if self.message else "")

    def as_record(self) -> dict:
        return {"status": self.status, "signer": self.signer, "signed_at": self.signed_at,
                "fingerprint": self.fingerprint, "message": self.message}


# --- the key -----------------------------------------------------------------------------
def key_path() -> Path:
    """Where the key lives: ``AFTERSALES_SIGNING_KEY``, else ``/etc/aftersales/signing-key.p12``."""
    env = os.environ.get(KEY_ENV, "").strip()
    return Path(env) if env else DEFAULT_KEY_PATH


def _write_key(path: Path, key, cert: x509.Certificate, chain: list[x509.Certificate]) -> None:
    blob = pkcs12.serialize_key_and_certificates(b"aftersales", key, cert, chain or None,
                                                 serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, blob)
    os.chmod(path, 0o600)


def load_key(path: Path | None = None) -> SigningKey | None:
    """The company key, or None when there is none (documents are then archived unsigned)."""
    path = Path(path) if path else key_path()
    if not path.is_file():
        return None
    try:
        blob = path.read_bytes()
        _, cert, _ = pkcs12.load_key_and_certificates(blob, None)
        signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=None)
    except (OSError, ValueError) as exc:
        raise SigningError(f"签章密钥文件无法读取：{path}（{exc}）") from None
    if signer is None or cert is None:
        raise SigningError(f"签章密钥文件无法读取：{path}")
    return SigningKey(path, signer, cert)


def init_key(path: Path, organisation: str, unit: str = SIGNER_LABEL, years: int = 10,
             force: bool = False) -> SigningKey:
    """Make a company key (ECDSA P-256) with a self-signed certificate valid ``years`` years."""
    if path.exists() and not force:
        raise SigningError(f"签章密钥已存在：{path}（替换请加 --force；旧证书仍保留在数据目录中）")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} {unit} 电子签章")])
    now = datetime.now(timezone.utc)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    _write_key(path, key, cert, [])
    return load_key(path)


def import_p12(path: Path, blob: bytes, passphrase: str | None, force: bool = False) -> SigningKey:
    """Take a key issued by the company's CA (PKCS#12); stored again without its passphrase, 0600."""
    if path.exists() and not force:
        raise SigningError(f"签章密钥已存在：{path}（替换请加 --force；旧证书仍保留在数据目录中）")
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(blob, passphrase.encode() if passphrase else None)
    except ValueError:
        raise SigningError("无法读取该 PKCS#12 文件：口令错误或文件损坏") from None
    if key is None or cert is None:
        raise SigningError("该 PKCS#12 文件中没有私钥和证书")
    _write_key(path, key, cert, list(chain or []))
    return load_key(path)


# --- the certificates kept in the data folder ----------------------------------------------
def keep_certificate(data_root: Path, cert: x509.Certificate) -> Path:
    """Keep ``cert`` under ``<data>/signing-certs/`` (named by its SHA-256; never removed)."""
    folder = Path(data_root) / CERTS_DIR
    target = folder / f"{cert.fingerprint(hashes.SHA256()).hex()}.pem"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(target, cert.public_bytes(serialization.Encoding.PEM))
    return target


def kept_fingerprints(data_root: Path) -> set[str]:
    folder = Path(data_root) / CERTS_DIR
    return {p.stem for p in folder.glob("*.pem")} if folder.is_dir() else set()


def kept_certificates(data_root: Path) -> list[x509.Certificate]:
    folder = Path(data_root) / CERTS_DIR
    return [x509.load_pem_x509_certificate(p.read_bytes()) for p in sorted(folder.glob("*.pem"))] \
        if folder.is_dir() else []


# --- signing and checking ------------------------------------------------------------------
def _off_loop(fn, *args, **kwargs):
    """Call ``fn`` where pyHanko may start its own asyncio loop: here, or in a worker thread when
    this thread already runs one (pyHanko's sync calls use ``asyncio.run``, which refuses to nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def sign_pdf(content: bytes, key: SigningKey, *, reason: str, location: str = "售后服务管理系统",
             signer_label: str = SIGNER_LABEL) -> bytes:
    """``content`` with the company's PAdES B-B signature and a visible block on its last page
    naming the signer and the time (an incremental update: the original bytes stay a prefix)."""
    return _off_loop(_sign_pdf, content, key, reason=reason, location=location, signer_label=signer_label)


def _sign_pdf(content: bytes, key: SigningKey, *, reason: str, location: str, signer_label: str) -> bytes:
    font = core_pdf.ensure_fonts()["FormCJK-regular.ttf"]
    style = TextStampStyle(stamp_text="电子签章：%(signer)s\n签章时间：%(ts)s",
                           text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(font)), font_size=9),
                           timestamp_format="%Y-%m-%d %H:%M:%S %z", border_width=1)
    meta = signers.PdfSignatureMetadata(field_name=FIELD, reason=reason, location=location, name=signer_label,
                                        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    spec = fields.SigFieldSpec(FIELD, on_page=-1, box=STAMP_BOX)
    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=key.signer, stamp_style=style, new_field_spec=spec).sign_pdf(
        writer, output=out, appearance_text_params={"signer": signer_label})
    return out.getvalue()


def check_pdf(content: bytes, trusted_fingerprints: set[str]) -> SignatureCheck:
    """The company signature of ``content``: valid only when intact, cryptographically valid,
    covering the whole file, and made with one of the kept certificates."""
    return _off_loop(_check_pdf, content, trusted_fingerprints)


def _check_pdf(content: bytes, trusted_fingerprints: set[str]) -> SignatureCheck:
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        sigs = reader.embedded_signatures
    except Exception as exc:  # a damaged file is simply not validly signed
        return SignatureCheck("invalid", message=f"文件无法解析：{type(exc).__name__}")
    if not sigs:
        return SignatureCheck("unsigned")
    sig = sigs[-1]
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=[], allow_fetching=False,
                                                               revocation_mode="soft-fail"))
    except Exception as exc:
        return SignatureCheck("invalid", message=f"签名数据无法解析：{type(exc).__name__}")
    cert = status.signing_cert
    fingerprint = hashlib.sha256(cert.dump()).hexdigest() if isinstance(cert, asn1_x509.Certificate) else ""
    when = sig.self_reported_timestamp
    base = {"signer": cert.subject.human_friendly if cert else "", "fingerprint": fingerprint,
            "signed_at": when.astimezone().isoformat(timespec="seconds") if when else ""}
    if not (status.intact and status.valid):
        return SignatureCheck("invalid", message="文件在签章后被改动，或签名值不符", **base)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck("invalid", message="签章后文件又被追加了内容", **base)
    if fingerprint not in trusted_fingerprints:
        return SignatureCheck("invalid", message="签章证书不是本公司使用过的证书", **base)
    return SignatureCheck("valid", **base)


def image_as_pdf(image: bytes, mime: str, title: str) -> bytes:
    """An A4 PDF showing a scanned image whole (the signed wrapper of a JPEG/PNG scan), naming the
    original's SHA-256, with room at the bottom for the signature block."""
    return core_pdf.render_template_pdf("scan_wrapper.html", {
        "title": title, "mime": mime, "sha256": hashlib.sha256(image).hexdigest(),
        "data": base64.b64encode(image).decode("ascii")})


@dataclass(frozen=True)
class ForArchive:
    content: bytes  # what is archived as the document (a PDF signed; an image as it came)
    derived: bytes | None  # the signed PDF wrapper of an image, archived beside it
    record: dict  # stored with the document: the check at signing, or why it is unsigned


IMAGE_TYPES = ("image/jpeg", "image/png")


def sign_for_archive(data_root: Path, content: bytes, mime: str, *, reason: str, title: str) -> ForArchive:
    """What to archive for ``content``: signed when the company key is there. Signing never
    blocks the archiving: without a key, or when the file cannot be signed, the document is
    archived unsigned and the record says why (the caller warns the admins)."""
    try:
        key = load_key()
    except SigningError as exc:
        return ForArchive(content, None, {"status": "unsigned", "why": "key_error", "message": str(exc)})
    if key is None:
        return ForArchive(content, None, {"status": "unsigned", "why": "no_key", "message": "未配置签章密钥"})
    keep_certificate(data_root, key.certificate)
    try:
        if mime == "application/pdf":
            signed = sign_pdf(content, key, reason=reason)
            record = check_pdf(signed, {key.fingerprint}).as_record()
            # The unsigned bytes are the signed file's first ``unsigned_size`` bytes (an incremental
            # update), so both hashes can be checked from the one archived file.
            record.update(unsigned_sha256=hashlib.sha256(content).hexdigest(), unsigned_size=len(content))
            return ForArchive(signed, None, record)
        if mime in IMAGE_TYPES:
            wrapper = sign_pdf(image_as_pdf(content, mime, title), key, reason=reason)
            return ForArchive(content, wrapper, check_pdf(wrapper, {key.fingerprint}).as_record())
    except Exception as exc:  # noqa: BLE001 (a file pyHanko cannot sign is archived unsigned)
        return ForArchive(content, None, {"status": "unsigned", "why": "error",
                                          "message": f"签章失败（{type(exc).__name__}）"})
    return ForArchive(content, None, {"status": "unsigned", "why": "type", "message": f"{mime} 不签章"})


def describe(record: dict | None) -> str:
    """What a reader sees for a stored signature record (None: archived before signing existed)."""
    if record is None:
        return "未签章（启用前归档）"
    if record.get("status") == "unsigned":
        return f"未签章（{record.get('message') or '未配置签章密钥'}）"
    return STATUS_TEXT.get(record.get("status"), "未签章")
