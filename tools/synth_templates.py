"""The synthetic notes' paragraph templates, and how a note is assembled from them.

Part of tools/synth_notes.py (see its docstring).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from synth_data import Note, Segment, Segs, lit
from synth_slots import Gen

# --------------------------------------------------------------------------- templates
# Each template is one paragraph. {slot} calls Gen.s_slot; everything else is non-PHI text.
# Sections: H header, N neuro, C cardiac, R resp, G GI/GU, O other systems, S social,
# D dispo/plan, E events (PHI-heavy narrative), Z signature/addendum.

TEMPLATES: dict[str, tuple[str, ...]] = {
    "H": (
        "NPN 7p-7a",
        "Nursing Progress Note {md} 0700-1900",
        "CCU NSG NOTE 7A-7P, {md}",
        "{dfull}, {time}",
        "MICU nursing progress note",
        "Resp care note:",
        "{md} CSRU 7P-7A SHIFT SUMMARY;",
        "NURSING ADMIT NOTE: {age} female admitted from {hosp} s/p fall at home.",
        "Nursing transfer note - pt to {ward} today.",
        "Neuro ICU NPN, {dword} 1900-0700",
        "Patient: {ptfull}   {mrn}",
        "ADDENDUM {time}:",
        "{dword}, {year} 0700->1930",
        "S/O:",
        "Case management note: pt seen with {rel} re: dispo planning.",
    ),
    "N": (
        "Neuro: seen by neuro (Dr. {drlast}), EEG today. Pt asks to be called {relname}'s mom. "
        "Hx of Parkinson's, tremor at baseline.",
        "NEURO: PT JEHOVAH'S WITNESS - NO BLOOD PRODUCTS, CONFIRMED W/ {rel}. A&OX3, MAE.",
        "Neuro: A&Ox3, MAE, PERRL 3mm brisk, follows commands. Denies pain. Will cont to monitor.",
        "NEURO- sedated on propofol @ {dose}, opens eyes to voice, moves all ext. GCS {gcs}.",
        "neuro; pt awake, alert & oriented x2, thinks it is {month} and that he is at home. "
        "Reoriented frequently.",
        "Neuro: Pt confused overnight, pulling at lines, {dose} haldol given at {time} w/ good "
        "effect. Soft wrist restraints on. May need sitter.",
        "neuro: lethargic but arousable. Pain {pain} incisional, dilaudid {dose} iv x2 with "
        "relief to {pain}. Strength {strength} RUE, {strength} LUE.",
        "NEURO: {eponym}. Pt has hope he will go home soon; family also hopeful.",
        "Neuro: pt asking for {rel} all night, reassured. Frank confusion at times, oriented "
        "to self only.",
        "MS: pt states he is in {city} and that it is {year}; not oriented to place or time.",
        'neuro- pt says "I want to see my {relword}", anxious, ativan {dose} po given.',
    ),
    "C": (
        "CV: iabp 1:2, MAP >65. IVF D5 1/2 NS @ 75cc/hr. Discussed w/ attending {dr} and "
        "fellow {dr}; plan to wean pressors.",
        "Cardiac: {dr}'s team in to see pt, echo planned. Hx MI {my}, PTCA {my}. HR {hr}.",
        "CV: HR {hr}-{hr} SR no ectopy, BP {bp}-{bp}. {drug} gtt titrated for SBP >90. "
        "{lab}, repleted.",
        "CARDIAC: NSR 80'S-90'S, RARE PVC'S. BP {bp}. CVP {rr}. {eponym}.",
        "cv: st 100's-110's, sbp 90-110 on neo {dose}. lasix {dose} iv at {time} w/ good "
        "response, {io} i/o for shift.",
        "CV- Afib w/ RVR to 140s at {time}, {drug} {dose} IVP x2, converted to SR at {time}. "
        "Dr {drlast} aware. EKG done.",
        "CV: BP labile {bp}-{bp}, HR {hr}. {lab} -> transfused 1 unit PRBC per {dr}.",
        "cv: iabp 1:1, ci >2, augmenting well. may wean to 1:2 in am per {initlast}.",
        "CV: Pt c/o CP {pain} at {time}, SL NTG x1 w/ relief. EKG unchanged. {initlast} aware, "
        "{lab}.",
        "CV: HR 70's SR. Bp {bp}. Swan d/c'd {time}. Distal pulses palp. Will cont to monitor.",
    ),
    "R": (
        'Resp: ortho resident ({drlast}) in to eval chest wall. Pt says "where is '
        '{relname}?" when coughing. Sats {sat} on 2L.',
        "Resp: LS coarse bilat, sx for mod amts thick tan sputum. Vent {vent}, ABG {abg}.",
        "RESP: WEANED TO {vent} AT {time}, TOL WELL, RR {rr}, SAT {sat}. ABG {abg}.",
        "resp: on 4L NC sats {sat}, lungs dim bases. IS 750. Strong cough, brown sputum.",
        "Resp: extubated at {time} per {dr}, on 50% cool neb, sats {sat}. No stridor.",
        "RESP: Pt desat to 84% at {time}, bagged, sx for large amt white secretions, CXR done, "
        "{dr} called to bedside.",
        "resp- ls clear upper, diminished lower. {vent}. rr teens. Will attempt to wean in am.",
        "Resp: trach care done, site benign, sxn q2h for small amts, O2 sat {sat} on 40% trach "
        "mask. {clin} in to see.",
    ),
    "G": (
        "GI: POD #2, HD #5. NGT d/c'd {time}. Wt 82.5kg (admit wt 79kg). Tol sips, no BM.",
        "GI: abd soft NT/ND, +BS, TF @ goal 60cc/hr, residuals <30. Colace/senna given. "
        "Brown guaiac neg stool x1.",
        "GI/GU: NPO, OGT to LIS draining bilious. Foley draining clear yellow uo 40-60cc/hr.",
        "GU: UO marginal 20-30cc/hr, bolused 500cc NS x1 per {dr}. Labs: {lab}.",
        "gi: tolerating clears, c/o nausea, zofran {dose} iv x1. no bm, + flatus.",
        "GI: MELENA X2 OVERNIGHT, {lab}, GI FELLOW {drlast} AWARE, EGD PLANNED FOR AM.",
        "GU: foley d/c'd at {time}, due to void by {time}. Frank hematuria earlier, now clearing.",
        "Renal: HD today, 2L off. {lab}. Quinton cath L SC intact. Renal fellow aware.",
    ),
    "O": (
        "Received report from {clin} at {time}. Call bell within reach, pt instructed.",
        "ID: S/P UTI {my}, PNA {my}. Cx from OSH {date} neg. Abx: {drug}.",
        "ID: Tmax {temp}, {lab}. On vanco/zosyn. Pan cx'd {md}, pending.",
        "ID: afebrile. BC from {date} + GPC in clusters, ID consult called, {dr} to see.",
        "Endo: FS BS 180-220, RISS. {drug} {dose} sc given at {time}.",
        "Heme: {lab}, 2 FFP given per {initlast}. Heparin gtt held.",
        "Skin: stage II on coccyx, duoderm applied. Heels boggy, pillows used. Pt on air bed.",
        "Access: PIV x2, R IJ TLC placed {md}, L radial a-line. {eponym}.",
        "ENDO: INSULIN GTT @ {dose}, BS 140-180, PER PROTOCOL.",
        "Pain: {pain}, morphine {dose} iv q2h prn with good effect.",
        "Skin: temp rose to {temp} at {time}, cooling blanket on. Marked diaphoresis, pat dry, "
        "linens changed. Pt will need sacral dsg changed.",
        "Lines: art line re-sited, waveform dampened. Moved to isolation bay for MRSA, contact "
        "precautions. Grant of consent for PICC obtained from pt.",
        "Lines: R fem sheath pulled at {time} by {clin}, site D&I, no hematoma.",
    ),
    "S": (
        "Social: PCP is {dr} in {city}. Has Medicare/Medicaid, VNA services at home, Meals on "
        "Wheels. {rel} visits daily.",
        "SOCIAL: CATHOLIC, PRIEST (FATHER {drlast}) IN FOR SACRAMENT OF THE SICK. {rel} "
        "AND {relname} AT BEDSIDE.",
        "Family: {rel} ({phone}) and {rel} - both want to be called w/ any change. HCP "
        "paperwork in chart.",
        "Social: {rel} in to visit, updated by RN and {dr}. Questions answered.",
        "SOCIAL: {rel} CALLED, UPDATED ON CONDITION. PHONE # {phone}.",
        "Social: pt lives w/ {rel} in {city}. Retired from {hosp}. Will need rehab screen.",
        "Social- {rel} is HCP, can be reached at {phone} or at work {phone} {ext}.",
        "SOCIAL: FAMILY MEETING WITH {dr} AND {dr} AT {time}. {rel} AND {rel} PRESENT. "
        "DECISION MADE FOR DNR/DNI.",
        "social: {rel} here from {cityst}, staying at hotel near hospital. {relname} asking "
        "appropriate questions.",
        "Social: married, lives at {addr} in {city} with {rel}. Daughter lives in {city}.",
        "Social: {rel} and {rel} at bedside all evening. Will call {relname} at home if any "
        "change: {phone}.",
        "SOCIAL: {ptfull} - {oldage} widow, lives at {hosp}. Nephew involved.",
        "Social: {rel} visited, brought in pt's glasses. {relname} plans to return {weekday}.",
        "social: no contact from family this shift. {relword} left number w/ unit clerk.",
        "SOCIAL: PT IS RUSSIAN SPEAKING, {rel} INTERPRETING. LIVES IN {city} SINCE {year}.",
    ),
    "D": (
        "Plan: spoke w/ covering MD {drlast} at {time} re: BP, no new orders. Cont "
        "current plan, PT/OT consult, screen for rehab ({hosp} vs {hosp}).",
        "A/P: stable, cont current plan, ? transfer to {ward} when bed available.",
        "PLAN: TRANSFER TO {ward} TODAY. REPORT CALLED TO {clin}.",
        "Plan: d/c to {hosp} in am, {eponym}. Screened by {hosp} liaison today.",
        "P: wean vent as tol, diurese, f/u cx. Dispo: possibly {hosp} next week.",
        "a: hemodynamically stable. p: cont to monitor, pain control, {weekday} cath planned.",
        "Plan: f/u with {dr} in clinic, appt {dword} at {time}; clinic phone {phone}.",
        "Dispo: accepted at {hosp}, transport at {time}, {relname} aware.",
        "PLAN: WILL PAGE {dr} ({pager}) WITH AM LABS.",
        "Plan: case mgmt {clin} following, {pager}. Will call {phone} with bed offer.",
    ),
    "E": (
        "{dword} - admitted to {hosp} with SOB, found to have PNA. {dword} - tx'd here via "
        "ambulance. {md}-{md} intubated.",
        "Pt's name is {ptfull}; goes by {nick} (nickname). Prefers to be addressed as {pt}.",
        "Pt is a {age} with hx CAD, HTN, DM2, s/p CABG x3 {year}, admitted {md} from {hosp} "
        "with CP, ruled in for NSTEMI.",
        "{oldage} female, pmh CHF, afib on coumadin, s/p fall {md} at {hosp}, transferred "
        "to {hosp} for further w/u.",
        "PT IS S/P AVR ON {date}. HX MI IN {year}, CVA {dfull}. ADMITTED TO {hosp} ER {md} "
        "WITH SOB.",
        "Pt went to {hosp} on {md} c/o abd pain, CT showed perf, to OR on {md}, here since "
        "{dword}.",
        "Events: at {time} pt became hypotensive to 70's, {dr} and {dr} at bedside, "
        "{drug} started, bolused 1L LR. BP now {bp}.",
        "Pt seen by {dr} from {hosp} re: transfer back when stable.",
        "hx: pt was at {hosp} {dword}-{dword}, then rehab at {hosp} until {nth}.",
        "Pt c/o {pain} pain, per {relname} this started around {month}. {initlast} aware.",
        "PMH: CVA in {year}, CABG {year}, L TKR {dfull}, cholecystectomy {year}.",
        "Pt states she was born in {city} and moved here in {year}. {rel} from {city} "
        "arriving {weekday}.",
        "{age} M admitted {date} s/p MVC, intubated at scene, medflight from {cityst} to {hosp}.",
        "Code status discussed w/ {pt} and {rel} by {dr}. Pt remains full code.",
        "{pt} is a {age} with ESRD on HD MWF at {hosp} dialysis unit, last HD {md}.",
        "{pt} resting comfortably, will cont to monitor. {pt} asked for {relname} to be called.",
        "Pt notes this is her {rr}th admission since {month}. Last d/c {dword} to {hosp}.",
        "TEE {md}: EF 25%, mod MR. Pt to OR on {nth} per CT surgery ({dr}).",
        "Cath {md} @ {hosp}: 3VD. Pt refused CABG at that time; now agrees after talking w/ {rel}.",
        "Hx: {oldage} w/ dementia from {hosp}, baseline A&Ox1, DNR/DNI per HCP ({rel}, {phone}).",
        "Pt was in {city} visiting {rel} last week when sx began; seen at {hosp} and sent here.",
        "Micro called {time}: sputum from {md} + MRSA. {dr} notified, {clin} aware.",
    ),
    "Z": (
        "{sig}",
        "{sig}",
        "{sig}",
        "Addendum: {relname} called at {time}, updated. Will call back at {phone} {ext}.",
        "ADDENDUM: NOTES WRITTEN AT {time} REFER TO {pt}, NOT THIS PT. PLEASE DISREGARD.",
        "{pager} for questions.",
        "- {initlast}, RN, {pager}",
        "",
    ),
}

_SLOT = re.compile(r"\{(\w+)\}")


def render(gen: Gen, template: str) -> Segs:
    out: Segs = []
    pos = 0
    for m in _SLOT.finditer(template):
        if m.start() > pos:
            out.append(lit(template[pos : m.start()]))
        method: Callable[[], Segs] = getattr(gen, "s_" + m.group(1))
        out.extend(method())
        pos = m.end()
    if pos < len(template):
        out.append(lit(template[pos:]))
    return out


def _apply_case(segs: Segs, case: str) -> Segs:
    if case == "mixed":
        return segs
    f = str.upper if case == "upper" else str.lower
    return [Segment(f(s.text), s.label, s.orig_label, s.kind) for s in segs]


def _merge(segs: Segs) -> tuple[Segment, ...]:
    """Join neighbouring non-PHI segments of the same kind (smaller, same text)."""
    out: list[Segment] = []
    for s in segs:
        if not s.text:
            continue
        if out and s.label is None and out[-1].label is None and out[-1].kind == s.kind:
            out[-1] = Segment(out[-1].text + s.text, None, "", s.kind)
        else:
            out.append(s)
    return tuple(out)


def make_note(gen: Gen, note_id: str) -> Note:
    rng = gen.rng
    gen.cast = gen.new_cast()
    r = rng.random()
    case = "upper" if r < 0.33 else "lower" if r < 0.55 else "mixed"
    gen.case = case
    style = rng.random()
    paras: list[str] = []
    if style < 0.7:  # systems note
        if rng.random() < 0.8:
            paras.append(gen.pick(TEMPLATES["H"]))
        if rng.random() < 0.5:
            paras.append(gen.pick(TEMPLATES["E"]))
        for sec in "NCRGO":
            if rng.random() < 0.75:
                paras.append(gen.pick(TEMPLATES[sec]))
        if rng.random() < 0.45:
            paras.append(gen.pick(TEMPLATES["O"]))
        if rng.random() < 0.75:
            paras.append(gen.pick(TEMPLATES["S"]))
        if rng.random() < 0.75:
            paras.append(gen.pick(TEMPLATES["D"]))
    else:  # short narrative note: event/social/plan heavy
        if rng.random() < 0.5:
            paras.append(gen.pick(TEMPLATES["H"]))
        for sec in rng.sample("EESDRC", k=rng.randint(2, 4)):
            paras.append(gen.pick(TEMPLATES[sec]))
    if rng.random() < 0.7:
        paras.append(gen.pick(TEMPLATES["Z"]))
    sep = gen.pick((" \n \n", " \n", "\n\n", " \n \n "))
    segs: Segs = []
    for i, p in enumerate(x for x in paras if x):
        if i:
            segs.append(lit(sep))
        segs.extend(render(gen, p))
    segs.append(lit(gen.pick((" \n\n", "\n", "\n\n"))))
    return Note(note_id, _merge(_apply_case(segs, case)), case)
