"""The company's PAdES signature (issue 18): sign, check with pyHanko and with poppler's pdfsig,
one changed byte, a key from a PKCS#12 made here, no key, the key commands."""
from __future__ import annotations

import io
import os
import stat
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from records.core import pdf as core_pdf
from records.core import signing
from tests.fixtures.pdfs import flat, pdf_text


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    return core_pdf.render_pdf("<html><body><p>季度报告 测试</p></body></html>")


def pdfsig(data: bytes, tmp_path) -> str:
    path = tmp_path / "checked.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_init_makes_a_0600_key_and_a_signature_both_checkers_accept(signing_key, plain_pdf, tmp_path):
    assert stat.S_IMODE(os.stat(signing_key.path).st_mode) == 0o600
    signed = signing.sign_pdf(plain_pdf, signing_key, reason="测试")
    assert signed.startswith(plain_pdf)  # an incremental update: the original bytes stay a prefix
    check = signing.check_pdf(signed, {signing_key.fingerprint})
    assert check.status == "valid" and "技质部" in check.signer and check.signed_at
    out = pdfsig(signed, tmp_path)
    assert "Signature is Valid." in out
    assert "Certificate issuer isn't Trusted." in out  # expected with a self-signed certificate
    text = flat(pdf_text(signed))
    assert "电子签章：技质部" in text and "签章时间：" in text  # the visible block


@pytest.mark.parametrize("where", ["content", "signature", "end"])
def test_one_changed_byte_makes_both_checkers_report_invalid(signing_key, plain_pdf, tmp_path, where):
    signed = signing.sign_pdf(plain_pdf, signing_key, reason="测试")
    pos = {"content": len(plain_pdf) // 2, "signature": signed.index(b"/Contents <") + 40,
           "end": len(signed) - 30}[where]
    bad = bytearray(signed)
    bad[pos] = ord("0") if bad[pos] != ord("0") else ord("1")
    assert signing.check_pdf(bytes(bad), {signing_key.fingerprint}).status == "invalid"
    assert "Signature is Valid." not in pdfsig(bytes(bad), tmp_path)


def test_an_appended_revision_or_an_unknown_certificate_is_invalid(signing_key, plain_pdf):
    signed = signing.sign_pdf(plain_pdf, signing_key, reason="测试")
    assert signing.check_pdf(signed, set()).message == "签章证书不是本公司使用过的证书"
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/PageMode"] = generic.NameObject("/UseOutlines")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    later = signing.check_pdf(out.getvalue(), {signing_key.fingerprint})
    assert later.status == "invalid" and later.message == "签章后文件又被追加了内容"
    assert signing.check_pdf(plain_pdf, {signing_key.fingerprint}).status == "unsigned"


def _ca_issued_p12(passphrase: bytes) -> bytes:
    now = datetime.now(timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "公司根 CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=900))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "技质部"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "技质部 电子签章")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .sign(ca_key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(b"sign", key, leaf, [ca],
                                                 serialization.BestAvailableEncryption(passphrase))


def test_import_a_pkcs12_from_the_company_ca(tmp_path, plain_pdf):
    blob = _ca_issued_p12(b"s3cret")
    with pytest.raises(signing.SigningError, match="口令错误"):
        signing.import_p12(tmp_path / "k.p12", blob, "wrong")
    key = signing.import_p12(tmp_path / "k.p12", blob, "s3cret")
    assert stat.S_IMODE(os.stat(key.path).st_mode) == 0o600
    assert signing.load_key(key.path).fingerprint == key.fingerprint  # stored again without the passphrase
    signed = signing.sign_pdf(plain_pdf, key, reason="测试")
    assert signing.check_pdf(signed, {key.fingerprint}).status == "valid"
    assert "Signature is Valid." in pdfsig(signed, tmp_path)
    with pytest.raises(signing.SigningError, match="已存在"):
        signing.import_p12(tmp_path / "k.p12", blob, "s3cret")


def test_without_a_key_documents_are_archived_unsigned_with_the_reason(tmp_path, plain_pdf):
    assert signing.load_key() is None  # the autouse fixture points at a missing file
    out = signing.sign_for_archive(tmp_path, plain_pdf, "application/pdf", reason="r", title="t")
    assert out.content == plain_pdf and out.derived is None
    assert out.record == {"status": "unsigned", "why": "no_key", "message": "未配置签章密钥"}
    assert signing.describe(out.record) == "未签章（未配置签章密钥）"
    assert signing.describe(None) == "未签章（启用前归档）"


def test_a_broken_key_file_never_blocks_archiving(tmp_path, monkeypatch, plain_pdf):
    bad = tmp_path / "bad.p12"
    bad.write_bytes(b"not a key")
    monkeypatch.setenv(signing.KEY_ENV, str(bad))
    out = signing.sign_for_archive(tmp_path, plain_pdf, "application/pdf", reason="r", title="t")
    assert out.content == plain_pdf and out.record["why"] == "key_error"


def test_the_key_commands_and_the_certificates_kept(runner, tmp_path, data_dir):
    key = tmp_path / "etc" / "signing-key.p12"
    made = runner.invoke(["signing-key", "init", "--data-dir", str(data_dir), "--key", str(key),
                          "--organisation", "某研究所"])
    assert made.exit_code == 0, made.output
    assert "某研究所" in made.output and "证书已保存到数据文件夹" in made.output
    again = runner.invoke(["signing-key", "init", "--data-dir", str(data_dir), "--key", str(key)])
    assert again.exit_code == 1 and "已存在" in again.output
    replaced = runner.invoke(["signing-key", "init", "--data-dir", str(data_dir), "--key", str(key), "--force"])
    assert replaced.exit_code == 0
    assert len(signing.kept_fingerprints(data_dir)) == 2  # the old certificate stays: old documents verify
    shown = runner.invoke(["signing-key", "show", "--data-dir", str(data_dir), "--key", str(key)])
    assert shown.exit_code == 0 and "文件权限：600" in shown.output and "保存的证书：2 个" in shown.output
    p12 = tmp_path / "ca.p12"
    p12.write_bytes(_ca_issued_p12(b"pw"))
    imported = runner.invoke(["signing-key", "import", "--data-dir", str(data_dir), "--key", str(key), "--force",
                              str(p12)], env={"AFTERSALES_P12_PASSPHRASE": "pw"})
    assert imported.exit_code == 0, imported.output
    missing = runner.invoke(["signing-key", "show", "--key", str(tmp_path / "none.p12")])
    assert missing.exit_code == 1 and "没有签章密钥" in missing.output
