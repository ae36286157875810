"""The état récapitulatif: the declaration, trips, estimate and pre-check flags, as French text
sections (shown in the chat) and as a printed form (PDF, fpdf2): the académie's header, tables of
trips, receipts and the estimate, the statuses, an attestation and signature block, page numbers."""

from __future__ import annotations

from fpdf import FPDF
from sqlalchemy.orm import Session

from core import checks, declarations, estimates, missions, prechecks, receipt_lines, steps
from core.dec.operators import actor_name
from core.french import (
    format_amount,
    format_at,
    format_date,
    format_duration,
    format_moment,
    format_time,
    format_timestamp,
    format_weekday_date,
    to_local,
)
from core.justification import Justification
from core.models import EtatDeFrais, Mission, MissionType, Trip, utcnow
from core.pdf_table import Column, draw_table, write_line, write_text
from core.rules import CATEGORY_LABELS, RECEIPTS_SOURCE, EstimateLine
from core.settings import Settings, get_settings
from core.statuses import Part, PartStatus

QUANTITY_LABELS = {
    "copies": "Nombre de copies corrigées",
    "candidates": "Nombre de candidats interrogés",
    "practical_minutes": "Durée des épreuves pratiques",
}
# Findings that are not a point to check for the intervenant (positive, or the chef de centre's part).
QUIET_FLAGS = frozenset({prechecks.TOTAL_MATCHES, prechecks.SERVICE_FAIT_MISSING})
Section = tuple[str, list[str]]
REFUSED_TITLE = "Validation impossible (Imag'in refuse, à corriger d'abord)"


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


def travel_declared(efm: EtatDeFrais) -> bool:
    """The mission was done (or not said yet) with travel costs: its times, trips and receipts are declared."""
    return efm.service_done is not False and declarations.part_status(efm, Part.TRAVEL) is not PartStatus.NO_COSTS


def trip_line(trip: Trip) -> str:
    return f"{format_moment(trip.depart_at)} {trip.depart_city} → {format_moment(trip.arrive_at)} {trip.arrive_city}"


def declaration_lines(session: Session, efm: EtatDeFrais, justification: Justification | None = None) -> list[str]:
    """The answers entered so far, one line each (``justification``: ``receipt_lines.justification_of`` of this
    dossier, when already computed)."""
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
    views = receipt_lines.line_views(session, efm, justification)  # each receipt, its kind, amount, what it justifies
    by_mail = " (envoi par e-mail annoncé)" if efm.receipts_by_email else ""
    lines.append(f"Justificatifs reçus{by_mail} :" if views else f"Justificatifs reçus : aucun{by_mail}")
    lines += [f"  {v.text}" for v in views]
    return lines


def _estimate_line(line: EstimateLine) -> str:
    if line.rule_source == RECEIPTS_SOURCE:
        return f"{line.label_fr} : {format_amount(line.amount)} ({estimates.line_rate(line)})"
    quantity, rate = estimates.line_quantity(line), estimates.line_rate(line)
    return f"{line.label_fr} : {quantity} × {rate} = {format_amount(line.amount)}"


def estimate_lines(session: Session, efm: EtatDeFrais) -> list[str]:
    """The estimate by category (« Repas : 60,00 € »), each category's lines under it, then the total."""
    est = estimates.estimate_for(session, efm)
    lines: list[str] = []
    for category, amount in est.by_category().items():
        lines.append(f"{CATEGORY_LABELS[category]} : {format_amount(amount)}")
        lines += [f"  {_estimate_line(ln)}" for ln in est.lines if ln.category == category]
    return [*(lines or ["Aucune somme due."]), f"Total estimé : {format_amount(est.total)}"]


def flag_lines(session: Session, efm: EtatDeFrais, flags: list[prechecks.FlagData] | None = None) -> list[str]:
    """The points to check of this dossier (``flags``: its findings, when already computed or stored)."""
    found = prechecks.compute_flags(session, efm) if flags is None else prechecks.for_intervenant(flags)
    return [f.message for f in found if f.code not in QUIET_FLAGS]


def recap_sections(session: Session, efm: EtatDeFrais, blocking: list[checks.Problem] | None = None) -> list[Section]:
    """The recap as titled sections of French lines (the chat and the PDF show the same thing). ``blocking``:
    ``checks.blocking_problems`` of this dossier, when already computed. The receipts' justification is
    computed once, for the declaration and the flags."""
    person = efm.convocation.intervenant
    justification = receipt_lines.justification_of(session, efm) if travel_declared(efm) else None
    sections: list[Section] = [
        ("Intervenant", [f"{person.display_name} – Numéro Intervenant {person.numero}"]),
        ("Mission", mission_lines(efm.convocation.mission)),
        ("Déclaration", declaration_lines(session, efm, justification)),
        ("Estimation des sommes dues (indicative)", estimate_lines(session, efm)),
    ]
    computed = prechecks.compute_flags(session, efm, blocking=blocking, justification=justification)
    found = [f for f in computed if f.code not in QUIET_FLAGS]
    refused = [f.message for f in found if f.severity == "blocking"] if not efm.dossier_number else []
    if refused:  # a draft: what Imag'in refuses stands apart, before « Valider »
        sections.append((REFUSED_TITLE, refused))
    flags = [f.message for f in found if f.message not in refused]
    if flags:
        sections.append(("Points à vérifier", flags))
    missing = steps.missing_answers(efm)
    if missing and not efm.dossier_number:
        sections.append(("Il reste à renseigner", missing))
    dossier = [f"Dossier n° {efm.dossier_number}"] if efm.dossier_number else ["Non validé (brouillon)"]
    sections.append(("Suivi", dossier + status_lines(efm)))
    return sections


_PDF_REPLACEMENTS = str.maketrans({"→": "->", "≥": ">=", "≤": "<=", "\u202f": " ", "\u2009": " ", "…": "...", "’": "'"})
INK = (29, 39, 51)
MUTED = (95, 107, 120)
HEAD_FILL = (230, 235, 241)
LINE_H = 5.5


def _pdf_text(text: str) -> str:
    return text.translate(_PDF_REPLACEMENTS).encode("windows-1252", errors="replace").decode("windows-1252")


class RecapForm(FPDF):
    """An A4 form with the académie's running header line and « Page n / N » in the footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.core_fonts_encoding = "windows-1252"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", "", 8)
        self.set_text_color(*MUTED)
        write_line(self, self.epw / 2, 5, self.footer_text)
        self.cell(self.epw / 2, 5, f"Page {self.page_no()} / {{nb}}", align="R")  # {nb}: fpdf's own cell
        self.set_text_color(*INK)

    def heading(self, title: str, rows: int = 4) -> None:
        """A section title with a rule under it, on the page where its first ``rows`` rows fit (a short
        table is not split from its heading)."""
        if self.will_page_break(12 + min(rows, 25) * (LINE_H + 2)):
            self.add_page()
        self.ln(3)
        self.set_font("helvetica", "B", 11)
        write_line(self, 0, 7, _pdf_text(title), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*MUTED)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(1.5)

    def fields(self, rows: list[tuple[str, str]]) -> None:
        """Label and value pairs, as on a printed form."""
        self.set_font("helvetica", "", 9.5)
        columns = [Column(55, color=MUTED), Column(125, color=INK)]
        draw_table(
            self,
            [[_pdf_text(label), _pdf_text(value)] for label, value in rows],
            columns,
            line_height=LINE_H,
            ruled="lines",
        )
        self.set_text_color(*INK)

    def grid(self, headings: list[str], rows: list[list[str]], widths: tuple[int, ...], right: int = 0) -> None:
        """A ruled table with a shaded heading row; the last ``right`` columns aligned right (amounts)."""
        self.set_font("helvetica", "", 9)
        columns = [Column(w, "R" if i >= len(widths) - right else "L") for i, w in enumerate(widths)]
        lines = [[_pdf_text(value) for value in line] for line in [headings, *rows]]
        draw_table(self, lines, columns, line_height=LINE_H, heading_fill=HEAD_FILL)


def _kept(value: str | None) -> str:
    return value if value else "—"


def _declaration_rows(efm: EtatDeFrais) -> list[tuple[str, str]]:
    done = {True: "oui", False: "non", None: "—"}[efm.service_done]
    rows = [("Mission effectuée", done)]
    if efm.service_done is False:
        return rows
    field = declarations.quantity_field(efm)
    if field and declarations.part_status(efm, Part.PAY) is not PartStatus.NO_COSTS:
        value = getattr(efm, field)
        shown = "—" if value is None else format_duration(value) if field == "practical_minutes" else str(value)
        rows.append((QUANTITY_LABELS[field], shown))
    if declarations.part_status(efm, Part.TRAVEL) is PartStatus.NO_COSTS:
        return rows
    rows += [
        ("Départ de la résidence", format_moment(efm.departure_at)),
        ("Retour à la résidence", format_moment(efm.return_at)),
    ]
    lodging = f" · {format_amount(efm.lodging_amount)}" if efm.lodging_amount is not None else ""
    rows.append(("Nuitées", f"{efm.nights or 0}{lodging}"))
    admin = f", dont {efm.admin_meals} en restaurant administratif" if efm.admin_meals else ""
    rows.append(("Repas", f"{'—' if efm.meals is None else efm.meals}{admin}"))
    if efm.car_fiscal_hp:
        rows.append(("Véhicule personnel", f"{efm.car_fiscal_hp} CV · {efm.car_yearly_km or 0} km dans l'année"))
    return rows


def _service_fait(session: Session, efm: EtatDeFrais) -> str:
    sf = efm.service_fait
    if sf is None:
        return "non attesté"
    state = "effectué" if sf.done else "non effectué"
    return f"{state}, attesté le {format_timestamp(sf.attested_at)} par {actor_name(session, sf.attested_by)}"


def render_recap_pdf(session: Session, efm_id: int) -> bytes:
    """The état récapitulatif of one état de frais as a printed form (French, A4)."""
    return recap_form(session, missions.get_efm(session, efm_id))


def recap_form(session: Session, efm: EtatDeFrais, flags: list[prechecks.FlagData] | None = None) -> bytes:
    """:func:`render_recap_pdf` of a loaded état de frais; ``flags``: its findings when already known (once
    submitted, ``prechecks.stored_flags``: what was checked then), else computed now."""
    settings = get_settings()
    mission, person = efm.convocation.mission, efm.convocation.intervenant
    dossier = f"Dossier n° {efm.dossier_number}" if efm.dossier_number else "Brouillon (non validé)"
    pdf = RecapForm(_pdf_text(f"{settings.academie_name} · {dossier} · mission n° {mission.number}"))
    pdf.set_title(_pdf_text(f"État récapitulatif – mission {mission.number}"))
    pdf.set_author(_pdf_text(f"{settings.academie_name} – assistant Imag'in"))
    pdf.add_page()

    # Header: the académie on the left, the document and its number on the right.
    top = pdf.get_y()
    pdf.set_font("helvetica", "B", 12)
    write_text(pdf, 90, 6, _pdf_text(settings.academie_name))
    pdf.set_font("helvetica", "", 9)
    service = settings.academie_service + (f"\n{settings.academie_address}" if settings.academie_address else "")
    write_text(pdf, 90, 4.5, _pdf_text(service))
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + 95, top)
    pdf.set_font("helvetica", "B", 14)
    write_text(pdf, 85, 7, _pdf_text("État de frais de mission\nRécapitulatif"), align="R", new_x="LEFT")
    pdf.set_font("helvetica", "", 9)
    stamp = f"{dossier}\nÉdité le {format_at(to_local(utcnow()))} (heure de Paris)"
    write_text(pdf, 85, 4.5, _pdf_text(stamp), align="R")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 2)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.set_line_width(0.2)

    pdf.heading("Intervenant")
    pdf.fields(
        [
            ("Nom", person.display_name),
            ("Numéro Intervenant", person.numero),
            ("Commune de résidence", _kept(person.residence_commune)),
        ]
    )
    pdf.heading("Mission")
    exam, start = mission.exam, mission.start_at
    mission_rows = [
        ("Mission", f"n° {mission.number} · {MissionType(mission.mission_type).label}"),
        ("Examen", f"{exam.name} – {exam.session}"),
        ("Début", f"{format_weekday_date(start)} à {format_time(start)} · {mission.duration_days} journée(s)"),
        ("Centre", f"{mission.centre.name} ({mission.centre.code})"),
    ]
    if mission.speciality or mission.epreuve:
        mission_rows.append(("Spécialité / épreuve", " · ".join(x for x in (mission.speciality, mission.epreuve) if x)))
    pdf.fields(mission_rows)

    pdf.heading("Déclaration")
    pdf.fields(_declaration_rows(efm))

    if travel_declared(efm):
        pdf.heading("Trajets", len(efm.trips) + 1)
        trips = [
            [
                str(i),
                format_moment(t.depart_at),
                t.depart_city,
                format_moment(t.arrive_at),
                t.arrive_city,
                declarations.TRIP_MODES.get(t.mode, t.mode),
                f"{t.distance_km} km" if t.distance_km else "—",
            ]
            for i, t in enumerate(efm.trips, 1)
        ]
        if trips:
            pdf.grid(["N°", "Départ", "De", "Arrivée", "À", "Mode", "Distance"], trips, (8, 27, 28, 27, 28, 44, 18), 1)
        else:
            pdf.fields([("Trajets", "aucun")])

        found = receipt_lines.line_views(session, efm)
        pdf.heading("Justificatifs", len(found) + 3)
        rows = [
            [
                v.receipt.original_name,
                v.kind_label,
                format_date(v.receipt.ocr_date) if v.receipt.ocr_date else "—",
                format_amount(v.line.amount) if v.line.amount is not None else "illisible",
            ]
            for v in found
        ]
        read = [v.line.amount for v in found if v.line.amount is not None]
        declared_total = format_amount(efm.receipts_total) if efm.receipts_total is not None else "—"
        rows.append(["Total des justificatifs", "", "", format_amount(sum(read)) if read else "—"])
        rows.append(["Total déclaré par l'intervenant", "", "", declared_total])
        if found:
            pdf.grid(["Justificatif", "Nature", "Daté du", "Montant"], rows, (70, 50, 30, 30), 1)
        else:
            by_mail = " (envoi par e-mail annoncé)" if efm.receipts_by_email else ""
            pdf.fields([("Justificatifs reçus", f"aucun{by_mail}"), ("Total déclaré", declared_total)])

    est = estimates.estimate_for(session, efm)
    pdf.heading("Estimation des sommes dues (indicative)", len(est.lines) + 4)
    if est.lines:
        lines = [
            [
                "Rémunération" if ln.part == "pay" else "Déplacement",
                ln.label_fr,
                estimates.line_quantity(ln),
                estimates.line_rate(ln),
                format_amount(ln.amount),
            ]
            for ln in est.lines
        ]
        lines += [
            ["Sous-total", "Rémunération", "", "", format_amount(est.pay)],
            ["Sous-total", "Déplacement", "", "", format_amount(est.travel)],
            ["Total estimé", "", "", "", format_amount(est.total)],
        ]
        pdf.grid(["Partie", "Libellé", "Quantité", "Taux", "Montant"], lines, (25, 80, 27, 24, 24), 1)
    else:
        pdf.fields([("Total estimé", "Aucune somme due.")])

    pdf.heading("Statuts")
    pdf.fields(
        [
            ("Frais de rémunération", PartStatus(efm.pay_status).label),
            ("Frais de déplacement", PartStatus(efm.travel_status).label),
            ("Service fait", _service_fait(session, efm)),
        ]
    )
    points = flag_lines(session, efm, flags)
    missing = steps.missing_answers(efm) if not efm.dossier_number else []
    if points or missing:
        pdf.heading("Points à vérifier")
        pdf.set_font("helvetica", "", 9.5)
        for line in [*points, *(f"À renseigner : {m}" for m in missing)]:
            write_text(pdf, 0, LINE_H, _pdf_text(f"- {line}"))

    # Attestation and signatures, kept together on one page.
    if pdf.will_page_break(62):
        pdf.add_page()
    pdf.heading("Attestation et signatures")
    pdf.set_font("helvetica", "", 9.5)
    write_text(
        pdf,
        0,
        LINE_H,
        _pdf_text(
            f"Je soussigné(e) {person.display_name} certifie sur l'honneur l'exactitude des renseignements "
            "portés sur cet état de frais et des justificatifs joints."
        ),
    )
    pdf.ln(2)
    box_w, box_h, y = (pdf.epw - 10) / 3, 30, pdf.get_y()
    for i, title in enumerate(["L'intervenant", "Le chef de centre (service fait)", f"Visa de la {_short(settings)}"]):
        x = pdf.l_margin + i * (box_w + 5)
        pdf.rect(x, y, box_w, box_h)
        pdf.set_xy(x + 2, y + 1.5)
        pdf.set_font("helvetica", "B", 9)
        write_line(pdf, box_w - 4, 5, _pdf_text(title))
        pdf.set_xy(x + 2, y + box_h - 6)
        pdf.set_font("helvetica", "", 8)
        pdf.set_text_color(*MUTED)
        write_line(pdf, box_w - 4, 5, _pdf_text("Date et signature"))
        pdf.set_text_color(*INK)
    pdf.set_xy(pdf.l_margin, y + box_h + 3)
    pdf.set_font("helvetica", "I", 8)
    write_text(
        pdf,
        0,
        4,
        _pdf_text(
            "Estimation indicative calculée selon les barèmes en vigueur à la date de la "
            "mission ; les montants définitifs sont arrêtés par la DEC. Sans attestation "
            "du service fait, aucune indemnisation n'est versée."
        ),
    )
    return bytes(pdf.output())


def _short(settings: Settings) -> str:
    """« DEC » from « Division des examens et concours (DEC) »; the whole name otherwise."""
    name = settings.academie_service
    return name[name.rfind("(") + 1 : -1] if name.endswith(")") and "(" in name else name
