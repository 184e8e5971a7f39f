"""Lay words -> the treaties' own terms.

Each entry maps everyday wording to phrases that occur in the texts (article titles and
defined terms), so a lay question finds formal provisions. Kept small and grounded: every
target phrase appears in at least one corpus document. The evaluation harness measures
the effect (preset "no-expansion").
"""
from __future__ import annotations

import re

SYNONYMS: dict[str, str] = {
    r"groom(?:ing|ed|s)?": "solicitation of children for sexual purposes proposes to meet a child",
    r"whistle-?blow(?:er|ers|ing)": "protection of reporting persons report in good faith unjustified treatment",
    r"hack(?:ing|er|ers|ed)?|break(?:ing)? into": "illegal access to a computer system without right",
    r"read (?:my|your|our|their) (?:messages|emails|e-mails|chats)|wiretap\w*|listen(?:ing)? in|spy(?:ing)? on":
        "interception of content data real-time collection of traffic data",
    r"(?:my|your|their) (?:messages|emails|e-mails|chats)": "content data communications interception",
    r"surveil\w*|monitor(?:ing)? (?:communications|online)": "interception real-time collection of traffic data",
    r"child (?:porn\w*|abuse (?:images|material))|csam": "child pornography child sexual abuse material",
    r"sextortion|revenge porn": "child pornography sexual exploitation coercion",
    r"ransomware|virus(?:es)?|malware|ddos|denial of service": "system interference data interference misuse of devices",
    r"money laundering|launder\w*|dirty money": "laundering of proceeds of crime",
    r"jail|prison|imprison\w*|locked up": "imprisoned deprivation of liberty",
    r"loans?|debts?|unpaid bills?": "inability to fulfil a contractual obligation",
    r"soldiers?|army|military service|armed conflicts?|war": "armed forces take a direct part in hostilities recruiting",
    r"complain\w*|petition\w*": "communications from individuals claiming to be victims of a violation",
    r"(?:take|knock\w*|bring)\w* (?:a )?(?:website|site|server|service)s? (?:offline|down)|flood\w*|crash\w*":
        "system interference serious hindering of the functioning of a computer system",
    r"got (?:very )?rich|unexplained wealth|suddenly rich": "illicit enrichment significant increase in the assets",
    r"bribe\w*|kickback\w*": "bribery of national public officials undue advantage",
    r"free(?:dom of)? speech|censorship": "freedom of expression freedom to seek, receive and impart information",
    r"privacy|private life": "arbitrary or unlawful interference with his privacy, family, home or correspondence protection of personal data",
    r"death penalty|capital punishment|executions?": "sentence of death capital punishment",
    r"rehabilitat\w*|recover(?:y|ing)": "physical and psycho-social recovery rehabilitation reintegration",
    r"compensat\w*|damages|reparation": "compensation restitution",
    r"hand(?:ing)? over|send (?:someone|suspects?) (?:back|abroad)": "extradition",
    r"data retention|keep(?:ing)? data|preserv\w*": "expedited preservation of stored computer data",
    r"passwords?": "computer password access code",
    r"fake|forg\w*": "computer-related forgery",
    r"scam\w*|fraud\w*": "computer-related fraud",
    r"copyright|piracy|pirat\w*": "infringements of copyright and related rights",
    r"hate speech|racis\w*|xenophob\w*": "racist and xenophobic material",
    r"holocaust denial|genocide denial": "denial, gross minimisation, approval or justification of genocide or crimes against humanity",
    r"jurisdiction|which country": "jurisdiction territory",
    r"cooperat\w*|co-operat\w*": "international co-operation mutual assistance",
    r"evidence abroad|foreign evidence": "mutual legal assistance",
    r"police|law enforcement": "competent authorities law enforcement",
    r"companies|corporations|businesses": "liability of legal persons",
    r"internet providers?|isps?|platforms?|tech companies": "service provider",
    r"kids?|minors?|teenagers?": "child children",
    r"victims? support|help(?:ing)? victims": "assistance to victims",
    r"torture": "torture or to cruel, inhuman or degrading treatment or punishment",
    r"fair trial": "fair and public hearing by a competent, independent and impartial tribunal",
    r"protest\w*|assembl(?:y|ies)": "right of peaceful assembly",
    r"asset recovery|stolen assets": "return and disposal of assets recovery of property",
    r"search(?:ing)? (?:my|a|the) (?:computer|phone|laptop)": "search and seizure of stored computer data",
    r"subscriber (?:info\w*|details)|who owns (?:an|the) account": "subscriber information production order",
    r"statute of limitations?|time limits?": "statute of limitations",
    r"encryption|encrypt\w*": "computer data security",
}
_COMPILED = [(re.compile(r"\b(?:" + k + r")\b", re.I), v) for k, v in SYNONYMS.items()]


def expand(question: str) -> str:
    """The question plus the formal terms its lay words stand for (empty if none)."""
    extra: list[str] = []
    for pattern, terms in _COMPILED:
        if pattern.search(question) and terms not in extra:
            extra.append(terms)
    return " ".join(extra)
