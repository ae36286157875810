"""The issue's meal-and-hotel case end to end: declared through core, read, confirmed, submitted, then seen by
the DEC on the dossier page (lines, what each justifies, estimate per category) and in the payment export."""

from __future__ import annotations

import csv
import html
import io
import re

from core import declarations as d
from core import receipt_lines
from core.checks import check_before_submit
from tests.core.helpers import efm_by_mission
from tests.core.test_receipt_lines import ACTOR, add_read, declare_meals_and_hotel
from tests.web.conftest import Console, login


def test_meal_and_hotel_on_the_dossier_page_and_in_the_export(db) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from core.demo import seed_demo

    with db() as s:
        codes = seed_demo(s)
        efm = efm_by_mission(s, "DEMO-101")
        declare_meals_and_hotel(s, efm)
        day0 = efm.convocation.mission.start_at.date()
        hotel = add_read(
            s, efm, 1, "hotel.pdf", {"total": "95.00", "date": (day0 + timedelta(days=1)).isoformat(), "kind": "hotel"}
        )
        resto = add_read(s, efm, 2, "resto.jpg", {"total": "23.40", "date": day0.isoformat(), "merchant": "LE PORT"})
        receipt_lines.confirm(s, efm, hotel.id, ACTOR)
        receipt_lines.correct(s, efm, resto.id, ACTOR, kind="meal")  # the reading did not say: "Restaurant ✓"
        check = check_before_submit(s, efm)
        assert check.errors == [] and check.warnings == []
        d.submit(s, efm, ACTOR, confirmed_warnings=check.warning_codes)
        efm_id = efm.id
    console = Console(db, codes, {"caen": efm_id})
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    c.post(f"/dossiers/{efm_id}/service-fait", data={"csrf": token, "effectue": "oui"})
    page = html.unescape(c.get(f"/dossiers/{efm_id}").text)
    lines = page.split('id="lignes"', 1)[1].split("</section>", 1)[0]
    hotel_row = re.search(rf'data-line="{hotel.id}".*?</tr>', lines, re.S).group(0)
    resto_row = re.search(rf'data-line="{resto.id}".*?</tr>', lines, re.S).group(0)
    assert "Hôtel (hébergement)" in hotel_row and "95,00 €" in hotel_row and "(compté)" in hotel_row
    assert "Restaurant (repas)" in resto_row and "23,40 €" in resto_row and "corrigé par l'intervenant" in resto_row
    assert "preuve d'un repas" in resto_row and "LE PORT" in resto_row and "(compté)" not in resto_row
    assert "Transport sur justificatifs" not in page  # the restaurant is not paid a second time
    categories = page.split('id="par-categorie"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"Repas</td><td class=\"num\">60,00 €", categories)
    assert re.search(r"Hébergement</td><td class=\"num\">90,00 €", categories)
    controls = page.split('id="controles"', 1)[1].split("</section>", 1)[0]
    assert "Total des justificatifs conforme" in controls and "Justificatif sans dépense" not in controls
    assert "à vérifier" not in controls  # nothing false flagged
    c.post(f"/dossiers/{efm_id}/decision", data={"csrf": token, "action": "validate", "partie": "both"})
    r = c.post("/exports/paiement", data={"csrf": token, "partie": "travel", "confirme": "oui"})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    [row] = [x for x in rows if x["Mission"] == "DEMO-101"]
    amounts = (row["Repas (€)"], row["Hébergement (€)"], row["Transport sur justificatifs (€)"])
    assert amounts == ("60,00", "90,00", "0,00")
    assert row["Indemnités kilométriques (€)"] == "44,80" and row["Montant (€)"] == "194,80"
