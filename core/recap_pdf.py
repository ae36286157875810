"""The état récapitulatif: the declaration, trips, estimate and pre-check flags, as French text
sections (shown in the chat) and as a PDF (fpdf2), generated in this one place."""

from __future__ import annotations

from fpdf import FPDF
from sqlalchemy.orm import Session

from core import declarations, estimates, missions, prechecks, receipts, steps
from core.french import (
    format_amount,
    format_duration,
    format_moment,
    format_quantity,
    format_time,
    format_timestamp,
    format_weekday_date,
)
from core.models import EtatDeFrais, Mission, MissionType, utcnow
from core.statuses import Part, PartStatus

QUANTITY_LABELS = {
    "copies": "Nombre de copies corrigées",
    "candidates": "Nombre de candidats interrogés",
    "practical_minutes": "Durée des épreuves pratiques",
}
# Findings that are not a point to check for the intervenant (positive, or the chef de centre's part).
QUIET_FLAGS = frozenset({prechecks.TOTAL_MATCHES, prechecks.SERVICE_FAIT_MISSING})
Section = tuple[str, list[str]]


def mission_lines(mission: Mission) -> list[str]:
    """The prefilled description of a mission, as Imag'in shows it."""
    exam, start = mission.exam, mission.start_at
    lines = [
        f"Mission n° {mission.number}",
        f"Examen : {exam.name} – {exam.session}",
        f"Type de mission : {MissionType(mission.mission_type).label}",
        f"Début : le {format_weekday_date(start)} à {format_time(start)} · durée : {mission.duration_days} journée(s)",
        f"Centre : {mission.centre.name} ({mission.centre.code})",
    ]
    if mission.speciality:
        lines.append(f"Spécialité : {mission.speciality}")
    if mission.epreuve:
        lines.append(f"Épreuve / option : {mission.epreuve}")
    return lines


def status_lines(efm: EtatDeFrais) -> list[str]:
    return [
        f"Statut frais de rémunération : {PartStatus(efm.pay_status).label}",
        f"Statut frais de déplacement : {PartStatus(efm.travel_status).label}",
    ]


def trip_line(trip) -> str:  # type: ignore[no-untyped-def]
    return f"{format_moment(trip.depart_at)} {trip.depart_city} → {format_moment(trip.arrive_at)} {trip.arrive_city}"


def declaration_lines(session: Session, efm: EtatDeFrais) -> list[str]:
    """The answers entered so far, one line each."""
    done = {True: "oui", False: "non", None: "—"}[efm.service_done]
    lines = [f"Mission effectuée : {done}"]
    if efm.service_done is False:
        return lines
    field = declarations.quantity_field(efm)
    if field and declarations.part_status(efm, Part.PAY) is not PartStatus.NO_COSTS:
        value = getattr(efm, field)
        shown = "—" if value is None else format_duration(value) if field == "practical_minutes" else str(value)
        lines.append(f"{QUANTITY_LABELS[field]} : {shown}")
    if declarations.part_status(efm, Part.TRAVEL) is PartStatus.NO_COSTS:
        return lines
    lines.append(f"Départ : {format_moment(efm.departure_at)} · Retour : {format_moment(efm.return_at)}")
    if efm.trips:
        lines.append("Trajets :")
        lines += [f"  {i}. {trip_line(t)}" for i, t in enumerate(efm.trips, 1)]
    else:
        lines.append("Trajets : aucun")
    lodging = f" ({format_amount(efm.lodging_amount)})" if efm.lodging_amount is not None else ""
    lines.append(f"Nuitées : {efm.nights or 0}{lodging}")
    admin = f", dont {efm.admin_meals} en restaurant administratif" if efm.admin_meals else ""
    lines.append(f"Repas : {'—' if efm.meals is None else efm.meals}{admin}")
    total = format_amount(efm.receipts_total) if efm.receipts_total is not None else "—"
    lines.append(f"Total des justificatifs déclaré : {total}")
    names = [r.original_name for r in receipts.receipts_of(session, efm.id)]
    by_mail = " (envoi par e-mail annoncé)" if efm.receipts_by_email else ""
    lines.append(f"Justificatifs reçus : {', '.join(names) if names else 'aucun'}{by_mail}")
    return lines


def estimate_lines(session: Session, efm: EtatDeFrais) -> list[str]:
    est = estimates.estimate_for(session, efm)
    lines = [
        f"{ln.label_fr} : {format_quantity(ln.quantity, ln.unit_fr)} × {format_amount(ln.rate)} = "
        f"{format_amount(ln.amount)}"
        for ln in est.lines
    ] or ["Aucune somme due."]
    return [*lines, f"Total estimé : {format_amount(est.total)}"]


def flag_lines(session: Session, efm: EtatDeFrais) -> list[str]:
    return [f.message for f in prechecks.compute_flags(session, efm) if f.code not in QUIET_FLAGS]


def recap_sections(session: Session, efm: EtatDeFrais) -> list[Section]:
    """The recap as titled sections of French lines (the chat and the PDF show the same thing)."""
    person = efm.convocation.intervenant
    sections: list[Section] = [
        ("Intervenant", [f"{person.display_name} – Numéro Intervenant {person.numero}"]),
        ("Mission", mission_lines(efm.convocation.mission)),
        ("Déclaration", declaration_lines(session, efm)),
        ("Estimation des sommes dues (indicative)", estimate_lines(session, efm)),
    ]
    flags = flag_lines(session, efm)
    if flags:
        sections.append(("Points à vérifier", flags))
    missing = steps.missing_answers(efm)
    if missing and not efm.dossier_number:
        sections.append(("Il reste à renseigner", missing))
    dossier = [f"Dossier n° {efm.dossier_number}"] if efm.dossier_number else ["Non validé (brouillon)"]
    sections.append(("Suivi", dossier + status_lines(efm)))
    return sections


_PDF_REPLACEMENTS = {"→": "->", "≥": ">=", "≤": "<=", "\u202f": " ", "\u2009": " "}


def _pdf_text(text: str) -> str:
    for old, new in _PDF_REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("windows-1252", errors="replace").decode("windows-1252")


def render_recap_pdf(session: Session, efm_id: int) -> bytes:
    """The état récapitulatif of one état de frais as a PDF (French)."""
    efm = missions.get_efm(session, efm_id)
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_pdf_text(f"État récapitulatif – mission {efm.convocation.mission.number}"))
    pdf.set_author("Assistant Imag'in")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 15)
    pdf.multi_cell(0, 8, _pdf_text("État récapitulatif – état de frais de mission"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        _pdf_text(f"Édité le {format_timestamp(utcnow())} par l'assistant Imag'in."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for title, lines in recap_sections(session, efm):
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 11)
        pdf.multi_cell(0, 6, _pdf_text(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 10)
        for line in map(_pdf_text, lines):
            if pdf.get_string_width(line) < pdf.epw - 1:  # one line: skip the (slow) line breaking
                pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "I", 8)
    pdf.multi_cell(
        0,
        4,
        _pdf_text(
            "Estimation indicative calculée selon les barèmes en vigueur à la date de la "
            "mission ; les montants définitifs sont arrêtés par la DEC. Sans attestation "
            "du service fait, aucune indemnisation n'est versée."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
