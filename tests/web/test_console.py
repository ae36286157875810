"""The console over HTTP (Starlette test client): sessions, CSRF, roles, decisions, exports."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta

from sqlalchemy import select

from core.models import EtatDeFrais, OutboxMessage
from core.statuses import PartStatus
from tests.web.conftest import csrf_of, login


def _status(console, efm_id: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with console.db() as s:
        efm = s.get(EtatDeFrais, efm_id)
        return efm.pay_status, efm.travel_status


def test_health_endpoints(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    assert c.get("/healthz").json()["status"] == "ok"
    r = c.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"


def test_nobody_acts_without_a_session(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    r = c.get("/file")
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion?suivant=/file")
    assert c.get(f"/dossiers/{console.ids['caen']}").status_code == 303
    r = c.post(
        f"/dossiers/{console.ids['caen']}/decision",
        data={"action": "reject", "partie": "pay", "motif": "x", "csrf": "x"},
    )
    assert r.status_code == 401
    with console.db() as s:  # a receipt is never served without a session
        from core.models import Receipt

        receipt_id = s.scalars(select(Receipt.id)).first()
    assert c.get(f"/justificatifs/{receipt_id}").status_code == 303
    assert _status(console, console.ids["caen"]) == (PartStatus.TO_VALIDATE, PartStatus.TO_VALIDATE)


def test_login_errors_throttle_and_intervenant_refused(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = csrf_of(c.get("/connexion").text)
    r = c.post("/connexion", data={"csrf": token, "identifiant": "dec.demo", "mot_de_passe": "mauvais"})
    assert r.status_code == 401 and "Identifiant ou mot de passe incorrect" in r.text
    person = console.codes["intervenants"][0]
    r = c.post(
        "/connexion", data={"csrf": token, "identifiant": person["numero"], "mot_de_passe": person["mot_de_passe"]}
    )
    assert r.status_code == 401  # an intervenant is not a staff account
    assert c.get("/file").status_code == 303
    r = c.post("/connexion", data={"identifiant": "dec.demo", "mot_de_passe": console.password("dec.demo")})
    assert r.status_code == 403  # no CSRF token: refused before checking the password
    for _ in range(4):
        c.post("/connexion", data={"csrf": token, "identifiant": "dec.demo", "mot_de_passe": "mauvais"})
    r = c.post(
        "/connexion", data={"csrf": token, "identifiant": "dec.demo", "mot_de_passe": console.password("dec.demo")}
    )
    assert r.status_code == 429 and "Trop de tentatives" in r.text


def test_gestionnaire_decides_from_the_dossier_page(console_any) -> None:  # type: ignore[no-untyped-def]
    console = console_any
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    caen = console.ids["caen"]
    queue = c.get("/file").text
    assert "DEMO-101" in queue and "DEMO-201" in queue and "Service fait non attesté" in queue
    page = c.get(f"/dossiers/{caen}").text
    assert 'src="/justificatifs/' in page and "80,00 €" in page and "85,00 €" in page
    assert "Total des justificatifs différent" in page and "500,00 €" in page and "100 copies" in page
    receipt_url = page.split('<img src="', 1)[1].split('"', 1)[0]
    img = c.get(receipt_url)
    assert img.status_code == 200 and img.headers["content-type"] == "image/png" and img.content[:4] == b"\x89PNG"
    # validation refused without service fait, with the reason shown
    r = c.post(f"/dossiers/{caen}/decision", data={"csrf": token, "action": "validate", "partie": "pay"})
    assert r.status_code == 303
    assert "service fait n&#39;est pas encore attesté" in c.get(r.headers["location"]).text
    # a forged form (no token, or another one) changes nothing
    assert c.post(f"/dossiers/{caen}/service-fait", data={"effectue": "oui"}).status_code == 403
    r = c.post(f"/dossiers/{caen}/decision", data={"csrf": "forged", "action": "validate", "partie": "pay"})
    assert r.status_code == 403
    assert c.post(f"/dossiers/{caen}/service-fait", data={"csrf": token, "effectue": "oui"}).status_code == 303
    r = c.post(f"/dossiers/{caen}/decision", data={"csrf": token, "action": "validate", "partie": "pay"})
    assert r.status_code == 303
    assert _status(console, caen) == (PartStatus.VALIDATED, PartStatus.TO_VALIDATE)
    r = c.post(f"/dossiers/{caen}/decision", data={"csrf": token, "action": "reject", "partie": "travel"})
    assert "motif du rejet" in c.get(r.headers["location"]).text
    c.post(
        f"/dossiers/{caen}/decision",
        data={"csrf": token, "action": "reject", "partie": "travel", "motif": "Trajet hors mission"},
    )
    assert _status(console, caen) == (PartStatus.VALIDATED, PartStatus.REJECTED)
    page = c.get(f"/dossiers/{caen}").text
    assert "Trajet hors mission" in page and "Rouvrir" in page


def test_request_info_from_the_console_notifies(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    efm_id = console.ids["alencon"]
    c.post(
        f"/dossiers/{efm_id}/decision",
        data={
            "csrf": token,
            "action": "request_info",
            "partie": "both",
            "motif": "Merci d'envoyer le billet de train.",
        },
    )
    assert _status(console, efm_id) == (PartStatus.INFO_REQUESTED, PartStatus.INFO_REQUESTED)
    with console.db() as s:
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dec_request_info")).one()
        assert msg.channel == "email" and "billet de train" in msg.text


def test_chef_de_centre_is_limited_to_their_centre(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "chef.0141274a", console.password("chef.0141274a"))
    queue = c.get("/file").text
    assert "DEMO-101" in queue and "DEMO-201" not in queue
    assert "PRISON" not in queue and "BACCALAUREAT" in queue  # filter choices: their centre's only
    other = console.ids["alencon"]
    assert c.get(f"/dossiers/{other}").status_code == 404
    assert c.get(f"/dossiers/{other}/dossier.zip").status_code == 404
    with console.db() as s:
        from core.models import Receipt

        foreign = s.scalars(select(Receipt.id).where(Receipt.efm_id == other)).one()
    assert c.get(f"/justificatifs/{foreign}").status_code == 404
    assert c.post(f"/dossiers/{other}/service-fait", data={"csrf": token, "effectue": "oui"}).status_code == 404
    mine = console.ids["caen"]
    page = c.get(f"/dossiers/{mine}").text
    assert "Valider la rémunération" not in page  # no decision buttons
    r = c.post(f"/dossiers/{mine}/decision", data={"csrf": token, "action": "validate", "partie": "pay"})
    assert r.status_code == 403
    assert c.get("/exports").status_code == 403 and c.get("/courriels").status_code == 403
    assert c.post(f"/dossiers/{mine}/service-fait", data={"csrf": token, "effectue": "oui"}).status_code == 303
    with console.db() as s:
        assert s.get(EtatDeFrais, mine).service_fait.done is True
    assert "DEMO-201" not in c.get("/service-fait").text


def test_missions_yet_to_begin_are_not_offered_for_attestation(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "chef.0141274a", console.password("chef.0141274a"))
    with console.db() as s:
        efm = s.get(EtatDeFrais, console.ids["caen"])
        efm.convocation.mission.start_at = datetime.now() + timedelta(days=1)
        number = efm.convocation.mission.number
    page = c.get("/service-fait").text
    row = page[page.index(number) :].split("</tr>")[0]
    assert "mission à venir" in row and f'value="{console.ids["caen"]}"' not in page
    r = c.post(
        "/service-fait/attester",
        data={"csrf": token, "effectue": "oui", "efm": str(console.ids["caen"])},
        follow_redirects=True,
    )
    assert f"La mission n° {number} commence le" in r.text and "à partir de ce moment" in r.text
    with console.db() as s:
        assert s.get(EtatDeFrais, console.ids["caen"]).service_fait is None


def test_logout_ends_the_session(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    assert c.post("/deconnexion", data={"csrf": token}).status_code == 303
    assert c.get("/file").status_code == 303


def test_exports_and_dossier_zip(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    caen = console.ids["caen"]
    c.post(f"/dossiers/{caen}/service-fait", data={"csrf": token, "effectue": "oui"})
    c.post(f"/dossiers/{caen}/decision", data={"csrf": token, "action": "validate", "partie": "both"})
    assert "1 dossier(s) validé(s)" in c.get("/exports").text
    confirm = c.post("/exports/paiement", data={"csrf": token, "partie": "pay"})  # asks first, exports nothing
    assert confirm.status_code == 200 and "Exporter la rémunération pour paiement ?" in confirm.text
    assert "1 dossier(s)</strong> pour un total de <strong>500,00 €" in confirm.text
    assert _status(console, caen) == (PartStatus.VALIDATED, PartStatus.VALIDATED)
    r = c.post("/exports/paiement", data={"csrf": token, "partie": "pay", "confirme": "oui"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert [(x["Mission"], x["Partie"], x["Montant (€)"]) for x in rows] == [("DEMO-101", "rémunération", "500,00")]
    assert _status(console, caen) == (PartStatus.SENT_TO_PAYMENT, PartStatus.VALIDATED)
    name = r.headers["content-disposition"].split('filename="', 1)[1].rstrip('"')
    assert name in c.get("/exports").text  # kept, to be fetched again
    assert c.get(f"/exports/fichiers/{name}").content == r.content
    assert c.get("/exports/fichiers/..%2Fweb_secret").status_code == 404
    assert "Aucun dossier validé" in c.post("/exports/paiement", data={"csrf": token, "partie": "pay"}).text
    r = c.post("/exports/paiement", data={"csrf": token, "partie": "pay", "confirme": "oui", "retour": "/exports"})
    assert r.status_code == 303 and "Aucun dossier validé" in c.get("/exports").text
    r = c.get(f"/dossiers/{caen}/dossier.zip")
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert "dossier.json" in zf.namelist() and "recapitulatif.pdf" in zf.namelist()
    pdf = c.get(f"/dossiers/{caen}/recapitulatif.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_dashboard_and_csv_attestation_upload(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "chef.06112932", console.password("chef.06112932"))
    board = c.get("/tableau-de-bord").text
    assert "<svg" in board and "1 dossier(s) en attente" in board and "Service fait non attesté" in board
    data = b"mission;numero_intervenant;service_fait\nDEMO-201;D1002;oui\nDEMO-101;D1001;oui\n"
    r = c.post("/service-fait/import", data={"csrf": token}, files={"fichier": ("liste.csv", data, "text/csv")})
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "1 attestation(s) enregistrée(s)" in page and "ligne 3" in page
    with console.db() as s:
        assert s.get(EtatDeFrais, console.ids["alencon"]).service_fait.source == "csv"
        assert s.get(EtatDeFrais, console.ids["caen"]).service_fait is None


def test_security_headers(console) -> None:  # type: ignore[no-untyped-def]
    r = console.client().get("/connexion")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert "httponly" in r.headers["set-cookie"].lower()


def test_bad_requests_get_french_answers(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    r = c.get("/file?statut=paye")
    assert r.status_code == 400 and "Statut inconnu" in r.text
    assert c.get("/dossiers/99999").status_code == 404
    assert "Page introuvable" in c.get("/nulle-part").text
    caen = console.ids["caen"]
    r = c.post(
        f"/dossiers/{caen}/decision",
        data={"csrf": token, "action": "send_to_payment", "partie": "pay", "retour": f"/dossiers/{caen}"},
    )
    assert "Décision inconnue" in c.get(r.headers["location"]).text
    r = c.post(
        "/connexion?suivant=//evil.example",
        data={"csrf": token, "identifiant": "dec.demo", "mot_de_passe": console.password("dec.demo")},
    )
    assert r.headers["location"] == "/"
    assert _status(console, caen) == (PartStatus.TO_VALIDATE, PartStatus.TO_VALIDATE)


def test_pdf_receipt_is_embedded_and_served(console) -> None:  # type: ignore[no-untyped-def]
    from fpdf import FPDF

    from core import receipts
    from tests.dec.factory import ACTOR

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="PEAGE TOTAL 12,40 EUR")
    data = bytes(pdf.output())
    with console.db() as s:
        efm = s.get(EtatDeFrais, console.ids["caen"])
        receipt, _ = receipts.add_receipt(s, efm, data, "peage.pdf", source="email", actor=ACTOR)
        s.info.pop("ocr_after_commit", None)
        receipt_id = receipt.id
    c = console.client()
    login(c, "dec.demo", console.password("dec.demo"))
    page = c.get(f"/dossiers/{console.ids['caen']}").text
    assert f'<object data="/justificatifs/{receipt_id}" type="application/pdf"' in page and "Lecture en cours" in page
    r = c.get(f"/justificatifs/{receipt_id}")
    assert r.headers["content-type"] == "application/pdf" and r.content == data
    assert r.headers["content-disposition"].startswith("inline")


def test_a_receipt_purged_past_retention_is_said_so(console) -> None:  # type: ignore[no-untyped-def]
    from core.models import Receipt
    from core.ops.privacy import PURGED

    with console.db() as s:
        receipt = s.scalars(select(Receipt).where(Receipt.efm_id == console.ids["caen"])).first()
        receipt.storage_key = PURGED
        receipt_id = receipt.id
    c = console.client()
    login(c, "dec.demo", console.password("dec.demo"))
    page = c.get(f"/dossiers/{console.ids['caen']}").text
    assert "Fichier supprimé : durée de conservation dépassée." in page
    assert f'src="/justificatifs/{receipt_id}"' not in page
    r = c.get(f"/justificatifs/{receipt_id}")
    assert r.status_code == 404 and "durée de conservation est dépassée" in r.text
    archive = zipfile.ZipFile(io.BytesIO(c.get(f"/dossiers/{console.ids['caen']}/dossier.zip").content))
    assert "dossier.json" in archive.namelist()
    assert not any(name.startswith(f"justificatifs/{receipt_id:04d}-") for name in archive.namelist())
