"""Issue 15 on the console: French everywhere, names in the history, clear actions, the worklist."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.models import EtatDeFrais, OutboxMessage
from core.statuses import PartStatus
from tests.dec.factory import submit_dossier
from tests.web.conftest import login
from tests.web.test_mail_quarantine import _quarantined_mail


def _status(console, efm_id: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with console.db() as s:
        efm = s.get(EtatDeFrais, efm_id)
        return efm.pay_status, efm.travel_status


def test_history_names_the_operator_and_cancel_says_what_it_does(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    caen = console.ids["caen"]
    page = c.get(f"/dossiers/{caen}").text
    assert "Annuler la partie (mission non due)" in page and "Rejeter la partie (frais refusés)" in page
    assert ">Annuler<" not in page
    c.post(f"/dossiers/{caen}/service-fait", data={"csrf": token, "effectue": "oui"})
    r = c.post(
        f"/dossiers/{caen}/decision", data={"csrf": token, "action": "cancel", "partie": "pay", "motif": "doublon"}
    )
    assert r.status_code == 303
    page = c.get(f"/dossiers/{caen}").text
    history = page[page.index('id="historique"') :]
    assert "rémunération · annulé : « doublon »" in history and "par Gestionnaire DEC (démo)" in history
    assert "staff:" not in page
    assert "par Gestionnaire DEC (démo) (depuis la console)" in page  # the service fait, with who attested it


def test_decision_email_greets_names_the_mission_and_says_what_next(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    caen = console.ids["caen"]
    c.post(f"/dossiers/{caen}/service-fait", data={"csrf": token, "effectue": "oui"})
    c.post(f"/dossiers/{caen}/decision", data={"csrf": token, "action": "validate", "partie": "both"})
    with console.db() as s:
        mails = {m.kind: m for m in s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email"))}
        number = s.get(EtatDeFrais, caen).dossier_number
    text = mails["dec_validate"].text
    assert text.startswith("Bonjour ") and len(text.splitlines()) >= 8  # not one bare line
    assert f"Dossier : n° {number}" in text and "Mission : n° DEMO-101 du " in text
    assert "Et maintenant ? Les sommes validées seront transmises" in text
    assert "discussion avec l'assistant Imag'in" in text and text.rstrip().endswith(
        "(message automatique de l'assistant Imag'in)"
    )
    assert "Division des examens et concours (DEC), Académie de Normandie" in text
    sf = mails["service_fait"].text
    assert sf.startswith("Bonjour ") and "attesté la mission n° DEMO-101" in sf and "Et maintenant ?" in sf


def test_previous_next_and_bulk_validation_of_unflagged_dossiers(console) -> None:  # type: ignore[no-untyped-def]
    with console.db() as s:  # a third dossier with nothing to check once its service fait is attested
        clean = submit_dossier(s, "DEMO-202", declared=None, read_total=None)
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    caen, alencon = console.ids["caen"], console.ids["alencon"]
    page = c.get(f"/dossiers/{caen}?statut=all").text
    assert re.search(rf'rel="next" href="/dossiers/{alencon}\?statut=all"', page)
    assert 'rel="prev"' not in page and "1 / 3" in page
    page = c.get(f"/dossiers/{alencon}?statut=all").text
    assert re.search(rf'rel="prev" href="/dossiers/{caen}\?statut=all"', page)
    assert re.search(rf'rel="next" href="/dossiers/{clean}\?statut=all"', page)
    assert 'name="dossier"' not in c.get("/file").text  # service fait missing everywhere: none offered in bulk
    for efm_id in (caen, alencon, clean):
        c.post(f"/dossiers/{efm_id}/service-fait", data={"csrf": token, "effectue": "oui"})
    queue = c.get("/file").text
    assert f'name="dossier" value="{clean}"' in queue  # nothing left to check
    assert f'name="dossier" value="{caen}"' not in queue  # totals differ: to be looked at
    r = c.post("/file/valider", data={"csrf": token, "dossier": [str(clean), str(caen)], "retour": "/file"})
    assert r.status_code == 303
    after = c.get("/file?statut=all").text
    assert "1 dossier(s) validé(s)" in after and "Non validés" in after and "un point est à vérifier" in after
    assert _status(console, clean)[0] == PartStatus.VALIDATED
    assert _status(console, caen) == (PartStatus.TO_VALIDATE, PartStatus.TO_VALIDATE)
    # a dossier just validated left the default filter but still leads on to the next one
    page = c.get(f"/dossiers/{alencon}").text
    assert re.search(rf'rel="prev" href="/dossiers/{caen}"', page) and 'rel="next"' not in page
    chef = console.client()
    chef_token = login(chef, "chef.06112932", console.password("chef.06112932"))
    assert chef.post("/file/valider", data={"csrf": chef_token, "dossier": str(caen)}).status_code == 403


def test_mail_page_speaks_french(console) -> None:  # type: ignore[no-untyped-def]
    _quarantined_mail()
    c = console.client()
    login(c, "dec.demo", console.password("dec.demo"))
    page = c.get("/courriels").text
    assert "conservée, en attente d" in page and "mis de côté" in page
    assert re.search(r"billet\.png · image/png · \d+,\d Ko · ", page)
    for english in ("held", "rejected", "quarantined", "accepted"):
        assert f"· {english}" not in page
