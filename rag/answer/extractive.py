"""The default, offline answer: the provisions' own sentences, ranked, each with its citation.

Faithful by construction: apart from fixed connecting phrases, every sentence shown is a
verbatim sentence of a cited provision. When nothing retrieved supports an answer, the
answer says so and lists the closest provisions as related, not as support.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import thesaurus
from ..index.chunker import clean_text, sentence_spans
from ..index.lexical import tokenize
from ..index.service import Index
from ..model import Answer, Citation, DocType, Passage, Provision, Verdict
from ..references import ALIASES, find_documents, strip_documents
from ..settings import Settings
from . import weigh
from .concepts import Concept, carried, display, frame_stems, key_concepts
from .verdict import Paragraph, asks_obligation, carries_all, judge_coverage, permissive_evidence

NOT_ADDRESSED = "The texts do not address this question."
# Below this weighed share of the question's key concepts carried by the best passage, an answer
# is led as the closest provisions found, not as what the texts address (weigh.py's wcov_best).
PARTIAL_EVIDENCE = 0.5
# "Does Article X cover Y?" in the forms people use: the verb may be any that asks whether a
# provision carries something, the question may be passive ("Is Y covered by Article X?") or
# start from the provision ("Under Article X, can Y ...?").
_VERBS = (r"cover|address|include|deal with|apply to|mention|protect|require|provide for|say anything about|"
          r"talk about|concern|regulate|oblige|allow|permit|guarantee|grant|recogni[sz]e|prohibit|forbid|ban|"
          r"criminali[sz]e|establish|extend to|encompass|contain|set out|impose|entitle|give|ensure|call for|"
          r"refer to|speak to|touch on|envisage|make|treat|define|list|cover")
_PARTICIPLES = (r"covered|addressed|included|mentioned|protected|required|prohibited|forbidden|banned|guaranteed|"
                r"granted|recogni[sz]ed|criminali[sz]ed|regulated|dealt with|provided for|permitted|allowed|set out|"
                r"referred to|established|envisaged|listed|defined|treated|made|found|contained|enshrined|laid down|"
                r"stipulated")
_ARTICLE = r"\b(?:articles?|arts?\.?)\s*(?P<art>\d{1,5})"
_COVERAGE_FORMS = [
    re.compile(r"^\s*(?:does|do|is|are|can|will|would|could|must|shall|may)\b(?P<pre>.*?)" + _ARTICLE +
               r"(?P<mid>.*?)\b(?:" + _VERBS + r")(?:s|es|d)?\b(?P<topic>.+?)\??\s*$", re.I),
    re.compile(r"^\s*(?:is|are|was|were)\s+(?P<topic>.+?)\s+(?:" + _PARTICIPLES + r")\s+(?:by|in|under|within)\s+"
               r"(?:[^?]*?)" + _ARTICLE, re.I),
    re.compile(r"^\s*(?:under|according to|in)\s+(?:[^,?]*?)" + _ARTICLE + r"[^,?]*,?\s*(?:is|are|can|could|must|"
               r"do|does|may|shall|will|would)\s+(?P<topic>.+?)\??\s*$", re.I),
    re.compile(r"^\s*(?:is|are)\s+(?:[^?]*?)" + _ARTICLE + r"(?:[^?]*?)\s+(?:about|on|concerned with|relevant to)"
               r"\s+(?P<topic>.+?)\??\s*$", re.I),
]


# "Is a country required by Article 4 of the OPSC to have jurisdiction ...?": who is bound, and to do what.
_REQUIRED_BY = re.compile(r"^\s*(?:is|are)\s+(?P<who>[^?]*?)\s+(?:required|obliged|obligated|bound)\s+(?:by|under)\s+"
                          r"(?:the\s+)?" + _ARTICLE + r"[^?]*?\s+to\s+(?P<what>.+?)\??\s*$", re.I)


def coverage_question(question: str) -> "re.Match | LooseCoverage | None":
    """The article and topic of a "does provision X carry Y?" question, in any of its forms."""
    bound = _REQUIRED_BY.match(question)
    if bound:
        return LooseCoverage(bound.group("art"), f"{bound.group('who')} {bound.group('what')}".strip())
    for form in _COVERAGE_FORMS:
        m = form.match(question)
        if m and m.group("topic").strip(" ?."):
            return m
    return None


# "Does Article 5 of <document> relax the rule ...?": any verb, once the document's name is cut away.
_LOOSE = re.compile(r"^\s*(?:does|do|did|will|would|can|could|must|shall|may)\b[^?]*?" + _ARTICLE +
                    r"(?P<rest>[^?]+?)\??\s*$", re.I)
_LOOSE_HEAD = re.compile(r"^(?:\s*(?:\(\w+\)|(?:para(?:graph)?\.?|point)\s*\(?\w+\)?))*\s*(?:,\s*)?"
                         r"(?P<verb>(?!of\b|in\b|on\b|under\b|the\b)[a-z]+)(?:\s+(?:out|up|down|for|to|with|on|"
                         r"against|in))?\s+(?P<topic>.+)$", re.I)


@dataclass
class LooseCoverage:
    """A coverage question no fixed form recognised, read with the documents' names removed."""

    art: str
    topic: str

    def group(self, name: str) -> str:
        return {"art": self.art, "topic": self.topic}[name]


# "untoc art 25 - does it cover compensation?": the article first, then the question about "it".
# (no question word between: "art 10 para 3, what does it say?" asks what, not whether)
_ARTICLE_FIRST = re.compile(r"^[^?]*?" + _ARTICLE + r"[^?]*?\s*(?:[-–—:,]\s*)?\b(?:does|do|can|could|will|would|must|"
                            r"shall|may)\s+(?:it|this|that)(?:\s+(?:article|provision))?\s+(?P<rest>[^?]+?)\??\s*$", re.I)


_ASKS_WHAT = re.compile(r"\b(?:what|which|how|why|where|when|who|whom|whose)\b", re.I)


def loose_coverage_question(question: str, metas) -> LooseCoverage | None:
    m = _LOOSE.match(question)
    if m is None:
        m = _ARTICLE_FIRST.match(question)
        # "art 10 para 3, what does it say?" asks what, not whether; "art 6 art 7 does it ...?" names two
        if m is not None and (_ASKS_WHAT.search(question[:m.start("rest")])
                              or len(re.findall(_ARTICLE, question[:m.start("rest")], re.I)) > 1):
            m = None
    if not m:
        return None
    rest = strip_documents(m.group("rest"), [], metas)
    rest = re.sub(r"^\s*(?:(?:of|in|under)\s+)?(?:(?:the\s+)?(?:convention|covenant|protocol|treaty)\b)?", "", rest,
                  flags=re.I)
    h = _LOOSE_HEAD.match(rest)
    if not h or len(h.group("topic").split()) < 1:
        return None
    return LooseCoverage(m.group("art"), h.group("topic").strip(" ?."))


# Any yes/no question about one named article ("Is someone unlawfully arrested entitled to
# compensation under Article 9 of the ICCPR?", "Can a Party under Art. 25 send a request by email?").
# A condition first ("If the State detains a parent, does ...?") is the question's context.
_CONDITION_FIRST = r"(?:(?P<condition>(?:if|when|where|once|after|in case)\b[^?,]*),\s*)?"
_YES_NO = re.compile(r"^\s*(?:(?:in|under|according to)\b[^?,]*,\s*)?" + _CONDITION_FIRST + r"(?P<aux>does|do|is|are|can|could|"
                     r"must|shall|should|may|might|will|would)\b", re.I)
# A question whether something is lawful asks for a judgement the words of one article may not
# settle ("Is it lawful to execute pregnant women under Art. 6?": 6(5) forbids it): quote it instead.
_LAWFUL = re.compile(r"\b(?:lawful|unlawful|legal|illegal|allowed|permitted|permissible|justified|okay|ok|"
                     r"forbidden|prohibited|banned)\b", re.I)
_SEVERAL_ARTICLES = re.compile(r"\barticles\b|\b(?:articles?|arts?\.?)\s*\d+\w*\s*(?:and|or|,|-|–|to)\s*\d", re.I)
_ARTICLE_PHRASE = re.compile(r"(?:\b(?:under|in|of|by|according to)\s+)?(?:the\s+)?" + _ARTICLE +
                             r"(?:\s*\(\w+\))*(?:\s+(?:of|in|under)\s+(?:the\s+)?(?:convention|covenant|protocol|"
                             r"treaty)\b)?", re.I)


# "Art 27 Lanzarote: do states have to ...?": the provision first, then a yes/no question.
_LEADING_REFERENCE = re.compile(r"^[^?:\u2013\u2014]*?" + _ARTICLE + r"[^?:\u2013\u2014]*?\s*[:\u2013\u2014-]\s*"
                                r"(?=" + _CONDITION_FIRST + r"(?:does|do|is|are|can|could|must|shall|should|may|might|"
                                r"will|would)\b)", re.I)


def yes_no_about_article(question: str, metas) -> LooseCoverage | None:
    """The last resort of coverage reading: a yes/no question naming exactly one article, whose
    topic is the question less its auxiliary, the article and the document's name."""
    lead = _LEADING_REFERENCE.match(question[:200])
    if lead and len(re.findall(_ARTICLE, question, re.I)) == 1 and not _SEVERAL_ARTICLES.search(question):
        question = f"{question[lead.end():].rstrip(' ?')} under article {lead.group('art')}?"
    m = _YES_NO.match(question)
    arts = list(re.finditer(_ARTICLE, question, re.I))
    if not m or len(arts) != 1 or _SEVERAL_ARTICLES.search(question) or _LAWFUL.search(question):
        return None
    rest = question[m.end():]
    rest = _ARTICLE_PHRASE.sub(" ", rest, count=1)
    rest = strip_documents(rest, [], metas)
    rest = re.sub(r"\b(?:say|says|state|states|provide|provides)\s+that\b", " ", rest, flags=re.I)
    rest = re.sub(r"\s+(?:under|in|of|by|from|to|according to)(?:\s+the)?\s*([?.!]*)\s*$", r"\1", rest, flags=re.I)
    rest = re.sub(r"^\s*(?:there\s+(?:(?:is|are)\s+)?)?(?:any\s+)?", "", rest, flags=re.I)
    topic = " ".join(rest.split()).strip(" ,?.")
    if m.group("condition") and len(topic.split()) >= 2:
        # The condition stays part of the subject: "if the offender is 25, does Art. 37 forbid
        # life imprisonment?" is not answered by what Art. 37 says of offenders under 18.
        condition = " ".join(strip_documents(_ARTICLE_PHRASE.sub(" ", m.group("condition")), [], metas).split())
        topic = f"{topic}, {condition[:1].lower()}{condition[1:]}"
    return LooseCoverage(arts[0].group("art"), topic) if len(topic.split()) >= 2 else None


# Questions about facts that treaty texts do not contain: who signed or ratified, and when.
# What a body a treaty sets up has done: its decisions and reports are not in the treaty. Named
# bodies only ("the Lanzarote Committee", "the implementation review mechanism", "the treaty body");
# the drafting committee's work and what NGOs or commentators said are in the commentaries.
_BODY = (r"(?:(?!ad[\s-]?hoc\b|adhoc\b|ngos?\b|civil\b|eff\b|knowmad\b|drafting\b|negotiating\b|special\b)"
         r"[\w'-]+\s+){0,4}?(?:committee|conference|working group|review group|mechanism|review cycle|"
         r"treaty bod(?:y|ies)|t-cy|secretariat|general assembly|security council)"
         r"(?:\s+of\s+(?:the\s+)?(?:states\s+)?parties)?")
_BODY_ACTS = re.compile(
    r"\bwhat did (?:the |its |this |that )?" + _BODY + r"\b[^?]{0,40}?\b(?:decide|conclude|find|recommend|say|adopt|"
    r"agree|state|rule|report|publish|issue)\b"
    r"|\bwhen did (?:the |its |this |that )?" + _BODY + r"\b[^?]{0,40}?\b(?:finish|complete|end|start|begin|meet|hold|"
    r"adopt|conclude|launch|publish|issue)\b"
    r"|\bwhat (?:decisions?|resolutions?|recommendations?|conclusions?|findings|views) (?:did|has|have) (?:the |its |this "
    r"|that )?" + _BODY + r"\b[^?]{0,40}?\b(?:take|taken|adopt|adopted|make|made|reach|reached|issue|issued)\b"
    r"|\bat its (?:latest|last|most recent|previous|next) (?:meeting|session|plenary)\b"
    r"|\bat its (?:\w+ ){0,2}(?:meeting|session|plenary) (?:in|of) (?:19|20)\d\d\b", re.I)
_COMMENTATORS = re.compile(r"\b(?:commentar(?:y|ies)|knowmad|eff|ngos?|civil society|redlines?|ad[\s-]?hoc)\b", re.I)


def _body_acts(question: str) -> bool:
    """Does the question ask what a treaty body later did (not what a commentary says it did)?"""
    return bool(_BODY_ACTS.search(question)) and not _COMMENTATORS.search(question)


def _outside_facts(question: str) -> bool:
    """Does the question ask a fact of the world that treaty texts never record?"""
    return bool(_OUTSIDE_FACTS.search(question)) or _body_acts(question)


_OUTSIDE_FACTS = re.compile(
    r"\bhow many (?:states|countries|parties|nations|signator\w*)\b[^?]*\b(?:ratif\w*|signed|acceded|joined|"
    r"parties to|members?)\b"
    r"|\b(?:which|what) (?:states|countries|nations)\b[^?]*\b(?:ratif\w*|signed|signature|acce(?:ded|ssion)|joined|"
    r"reserv\w*)"
    r"|\bwhen did \w+(?: \w+)? (?:ratif\w*|sign|accede|join)\b"
    r"|\bha(?:s|ve) (?-i:[A-Z])\w+(?: (?-i:[A-Z])\w+)? (?:ratified|signed|acceded|joined)\b"
    r"|\b(?:ratification|signature|accession) (?:status|count|date)s?\b"
    r"|\b(?:in what|on what|what|which)(?: exact| precise| specific)? (?:year|date|day|month) did\b[^?]{0,200}?\b(?:"
    r"ratif\w*|sign|accede|join|enter(?:ed)? into force|adopt)\b"
    r"|\bwhen did\b[^?]{0,200}?\b(?:ratif\w*|sign|accede|join|enter(?:ed)? into force|adopt)\b"
    r"|\b(?:in what|on what|what|which)(?: exact| precise| specific)? (?:year|date|day|month) did\b[^?]{0,200}?\b(?:come|"
    r"came) into (?:force|effect)\b"
    r"|\b(?:how many|which|what) (?:states|countries|parties|governments|nations)(?:\s+parties)?\s+(?:have|has)\s+"
    r"(?:\w+\s+)?(?:accepted|recogni[sz]ed|made|entered|lodged|deposited|withdrawn|invoked)\b"
    # what states have done: practice, not text
    r"|\bha(?:s|ve) any (?:state|country|government|party|parties|states|countries|governments)\b[^?]*\b(?:done|used|"
    r"invoked|applied|relied on|made|entered|lodged|refused|rejected|denied|declined|turned\b[^?]{0,30}\bdown|"
    r"granted|extradited|prosecuted|convicted)\b"
    r"|\bwho (?:chaired|presided over)\b"
    r"|\bwho (?:drafted|negotiated|proposed|sponsored) (?:the|this|that) (?:convention|treaty|covenant|protocol)\b"
    # a state's own act, with "the" and up to four name words: "Has the United States ratified ...?"
    r"|\bha(?:s|ve) (?:the )?(?-i:[A-Z])[\w.'-]*(?: (?-i:[A-Z])[\w.'-]*){0,3} (?:ever |already |yet |actually )?"
    r"(?:ratified|signed|acceded|joined|withdrawn|denounced)\b"
    # how far a treaty has spread, not what it requires for entry into force ("how many ratifications
    # must ... before it enters into force" is in its final clauses)
    r"|\b(?:widely|universally|broadly) ratified\b"
    r"|\bhow many (?:states |countries )?(?:parties|signatories|ratifications|accessions|member states)\b"
    r"(?![^?]*\b(?:must|needed|need|needs|required|requires|before|ha(?:ve|s) to|for (?:it|its|the|them)\b|"
    r"to (?:enter|come|take|accept|request|convene|ratify|receive)|in order)\b)"
    r"[^?]*\b(?:ha(?:s|ve)|are there|so far|now|today|currently|right now|to date)\b"
    # the date of an event: "when did it come into force", "since when has it been in force"
    r"|\bwhen did (?:the |this |that |it\b)[^?]*\b(?:come|came) into (?:force|effect)\b"
    r"|\bsince when\b[^?]*\bin force\b"
    # who holds an office now: the texts say how members are elected, not who they are
    r"|\bwho (?:are|is) (?:the )?(?:current|present|sitting)\b"
    # counts of what has happened under a treaty: "how many people have been extradited since 2000?"
    r"|\bhow many (?:\w+ )?(?:people|persons|individuals|cases|requests|times|children|victims|prosecutions|convictions|"
    r"extraditions|complaints|communications|investigations|arrests)\b[^?]*\b(?:(?:have|has) been|were|was) "
    r"(?:\w+ )?(?:extradited|prosecuted|convicted|arrested|refused|rejected|granted|filed|submitted|received|"
    r"sent|investigated|charged|sentenced|rescued|identified|reported|brought|made)\b"
    r"|\bhow many (?:\w+ )?(?:people|persons|individuals|cases|requests|times|children|victims|prosecutions|convictions|"
    r"extraditions|complaints|communications|investigations|arrests)\b[^?]*\b(?:since (?:19|20)\d\d|so far|to date|"
    r"up to now|until now|last year|in (?:19|20)\d\d|since (?:it|its|they|their|the \w+) (?:started|began|was set up|"
    r"were set up|was established|was created|creation|establishment|entered into force|came into force))\b"
    r"|\bhow many (?:\w+ )?(?:people|persons|individuals|cases|requests|complaints|communications|petitions|reports|"
    r"decisions|views|judgments|judgements)\b[^?]{0,200}?\b(?:has|have|did) (?:the |its |this |that )?" + _BODY +
    r"\b[^?]{0,30}?\b(?:received|registered|handled|examined|considered|decided|processed|adopted|issued|found)\b"
    # what courts have done under a treaty: case law, not text
    r"|\b(?:which|what) (?:national |domestic |foreign |\w+ )?(?:courts?|judges?|tribunals?|prosecutors?)\s+(?:\w+\s+){0,2}?"
    r"(?:have|has|did)\s+(?:ever\s+|already\s+|actually\s+)?(?!been\b)(?:convicted|prosecuted|applied|invoked|ruled|"
    r"sentenced|cited|interpreted)\b"
    # what a state reserved or how states voted: the depositary's and the assembly's records
    r"|\bwhat reservations? (?:did|has|have) (?:the )?\w+"
    r"|\b(?:which|what|how many) (?:states|countries|nations|governments|parties)\b[^?]*\b(?:voted|abstained|"
    r"(?:ended up|were) voting)\b"
    r"|\bhow did (?:the )?(?:states|countries|nations|governments|parties|\w+) vote\b",
    re.I,
)
# Another instrument named in the question ("the GDPR", "the UK Online Safety Act"): its rules are
# not in these texts unless the texts themselves name it.
_INSTRUMENT = re.compile(
    r"\b[A-Z][\w'\u2019-]*\s+(?:(?:and|of|on|for|the)\s+|[A-Z][\w'\u2019-]*\s+){0,6}"
    r"(?:Act|Regulation|Directive|Code|Statute|Law)\b"
    # an acronym used as an instrument: "under the GDPR", "does the GDPR impose"
    r"|(?<=\bunder )(?:the )?[A-Z]{3,6}\b|\b(?<=the )[A-Z]{3,6}(?= (?:impose|require|say|set|provide|allow|permit|"
    r"prohibit|define|regulate|oblige|demand|mandate)s?\b)"
    # a treaty body's interpretation is another instrument than the treaty
    r"|\b[Gg]eneral [Cc]omment(?: [Nn]o\.? ?\d+)?|\b[Gg]eneral [Rr]ecommendation(?: [Nn]o\.? ?\d+)?")
# "the UNTOC firearms protocol": up to three words before "protocol" (its qualifiers, read back to the
# first function word); "optional", "additional" and ordinals of the corpus's own protocols qualify none.
_PROTOCOL_NAME = re.compile(r"(?P<before>(?:[\w'\u2019-]+\s+){1,3})(?P<head>protocols?)\b", re.I)
# The subjects of the corpus treaties' sibling protocols that are not indexed: UNTOC's on trafficking in
# persons, the smuggling of migrants and firearms; the ICCPR's second (the death penalty); the CRC's on
# armed conflict and on a communications procedure; the Budapest Convention's second (electronic evidence).
_SIBLING_SUBJECT = re.compile(r"\b(?:traffick\w*|smuggl\w*|migrants?|firearms?|death penalty|abolition|"
                              r"armed conflicts?|child soldiers?|communications procedure|e-evidence|electronic "
                              r"evidence)\b", re.I)
# "the second additional protocol", "a 2nd optional protocol": the corpus holds only first protocols.
_LATER_ORDINAL = re.compile(r"\b(?:second|third|fourth|fifth|2nd|3rd|4th|5th)\s+(?:(?:additional|optional)\s+)?$", re.I)
_PROTOCOL_ON = re.compile(r"\s+(?:on|against|to prevent|concerning|relating to|for)\b", re.I)
_GENERIC_PROTOCOL = frozenset({"optional", "additional", "first", "1st", "new", "relevant", "said"})
_AFTER_PROTOCOL_NOUN = re.compile(r"\s+(?:\(\w+\)\s+)?(?:address(?:es)?|calls?|numbers?|traffic|packets?|version)\b", re.I)
# Question words an instrument match may take in from the sentence's start ("Does the EU ... Act").
_QUESTION_OPENING = re.compile(r"^(?:(?:does|do|did|is|are|was|were|what|which|how|why|can|could|would|will|under|"
                               r"in|according\s+to)\s+)*(?:the\s+)?", re.I)
# A question asking for an instrument's own rules: an auxiliary right before its name and a rule verb
# right after it ("what penalties does the EU Cybersecurity Act impose?"), not what a text says of it.
_ITS_OWN_RULES = re.compile(r"\b(?:does|do|did|would|will|can|could)\s+(?:the\s+)?$", re.I)
_RULE_VERB = re.compile(r"\s+(?:impose|require|prohibit|ban|penali[sz]e|punish|regulate|oblige|define|provide|set|"
                        r"allow|permit|mandate|fine)s?\b", re.I)
_PER_TEXTS = re.compile(r"\baccording to (?:the )?(?:commentary|commentaries|texts?|treaty|treaties|convention|"
                        r"knowmad|eff)\b", re.I)
# A name of letters and digits: "AES-256", "SHA-1", "5G", "ISO 27001", "TLS 1.3" (not "2nd", "18s", "1990s").
_CODE = re.compile(r"\b(?:[A-Za-z]{2,}-?\d+(?:\.\d+)*|(?-i:[A-Z]{2,}) \d+(?:\.\d+)*|\d+[A-Z]{1,3})\b(?<!\d(?:st|nd|rd|th))")
_REFERENCE_NUMBERS = re.compile(r"\b(?:articles?|arts?|paragraphs?|paras?|points?|no|nos|ets|cets|under|over|aged?|"
                                r"below|above|the)\.?\s*[-\d]+\S*", re.I)
# A part of another instrument asked for beside a named article ("which section of the US Computer Fraud
# and Abuse Act implements Art. 2?"): that instrument's text, not the article's.
_INSTRUMENT_PART = re.compile(r"\b(?i:(?:which|what) (?:sections?|articles?|provisions?|parts?|clauses?|chapters?) of (?:the )?)"
                              r"(?:[A-Z][\w'\u2019.-]*\s+(?:(?:and|of|on|for|the)\s+)?){1,7}(?:Act|Code|Law|Regulation|Directive|"
                              r"Statute)\b")
# A numbered General Comment asked about beside a named article: the article is not the body's reading.
_BODY_READING = re.compile(r"\bgeneral (?:comment|recommendation) (?:no\.? ?)?\d+", re.I)
# A question asking for a number the texts would have to state.
_UNITS = r"years?|months?|weeks?|days?|hours?|euros?|dollars?|percent|per cent"
_QUANTITY = re.compile(
    r"\b(?:how many|how much|how long|max(?:imum)?|min(?:imum)?|number of|amount of)\b[^?.]*?\b(?P<unit>" + _UNITS + r")\b"
    r"|\bin (?:us |u\.s\. |american |canadian |australian )?(?P<unit_in>" + _UNITS + r")\b"
    # a sum of money or a threshold: any figure would do ("what cash amount triggers ...", "the maximum fine")
    r"|\b(?:how much (?:money|compensation|damages|cash)|what(?:'s| is| are)?(?: the)? (?:\w+ )?(?:amount|threshold|sum)|"
    r"(?:what|which)(?:'s| is)?(?: the)? (?:percentage|proportion|fraction) of|(?:above|over|below|under) what (?:\w+ )?value|"
    r"(?:maximum|minimum) (?:fine|amount|sum|penalty|compensation)|(?:what|which) fines?\b(?! \w+ (?:of|for|on) the)"
    r"|how much (?:are|is|do|does|will|would)\b[^?]*\b(?:paid|earn|earns|cost|costs|receive|receives|get|gets)\b"
    r"|how (?:big|large|high|heavy|much)(?: an?| the)? (?:fines?|penalt(?:y|ies)|monetary sanctions?)"
    r"|how (?:big|large|high|heavy) (?:are|is|would|will|could|can|must)\b[^?]*\b(?:fines?|penalt(?:y|ies))"
    r"|what (?:size|level) of (?:fines?|penalt(?:y|ies)))\b"
    # an age: "at what age", "the minimum age for", "how old", "the age of consent"
    r"|\b(?P<age>(?:(?:at|from|until|below|above|under|over) what age|what(?: is the)? (?:minimum |maximum )?age|"
    r"(?:minimum|maximum) age)(?![-\w])|how old\b|age of (?:\w+ )?(?:consent|criminal responsibility|majority)\b)"
    # a length of time or of a sentence: "how long", "the maximum prison term"
    r"|\b(?P<duration>how long|(?:max(?:imum)?|min(?:imum)?) (?:prison |jail )?(?:term|sentence|punishment|time)|"
    r"(?:what|which) (?:length of )?(?:prison|jail|custodial) (?:terms?|sentences?)|"
    r"(?:max(?:imum)?|min(?:imum)?) (?:period|duration))\b"
    # a time limit: a length of time, or the texts' own word for one ("promptly", "without delay")
    r"|\b(?P<timing>time limits?|deadlines?|how (?:soon|quickly))\b",
    re.I,
)
# Where a question names its subject: "does T regulate <X>", "what does T say about <X>".
# What happened, or what holds in the world now: tense and time words, not a treaty's wording.
_NOW = (r"currently|still|today|nowadays|so far|to date|up to now|until now|in practice|actually|these days|"
        r"right now|recently|latest|most recent|current")
_EVENTS = re.compile(r"\b(?:has\b[^?]{0,60}\bever|have\b[^?]{0,60}\bever|ever been|" + _NOW + r")\b", re.I)
_TIME_WORDS = re.compile(r"\b(?:ever|" + _NOW + r")\b", re.I)  # _EVENTS' own words: they frame the question, not its subject
_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")  # a capitalised word: a name, unless it opens a sentence or frames one
_TITLE_CASE = re.compile(r"(?<=\S)\s+(?:Of|The|Into|For|And|To|In|On|By|With|A|An|From|Under)\s")
_POSSESSIVE = re.compile(r"['\u2019]s\b")  # "Kenya's"
_PLACE_BEFORE = re.compile(r"\b(?:in|from)\s+(?:the\s+)?$")  # "apply in Brazil", "a request from Peru"

_SUBJECT = re.compile(
    # "address" the verb, not the noun ("whose name and address is on my account", "my IP address")
    r"\b(?:regulat(?:e|es|ed|ing)|cover(?:s|ed|ing)?|(?<!\band )(?<!\bthe )(?<!\bmy )(?<!\ban )(?<!\bip )(?<!\bemail )"
    r"(?<!\be-mail )(?<!\bhome )(?<!\byour )(?<!\btheir )(?<!\bhis )(?<!\bher )address(?:es|ed|ing)?(?!\s+(?:is|was|of)\b)|"
    r"mention(?:s|ed|ing)?|"
    r"say\w* (?:anything )?about|deal\w* with|appl(?:y|ies) to|govern(?:s|ed|ing)?|provid\w* for|refer\w* to|"
    r"defin(?:e|es|ed|ing)|ban(?:s|ned|ning)?|prohibit\w*|criminali[sz]\w*|penalt(?:y|ies) for|"
    r"sanctions? for|rules? (?:on|for)|protect\w*(?: \w+)? (?:from|against)|oblig\w* \w+ to)\s+(?P<subject>[^?]+)",
    re.I,
)
# Number words and their values: one table for reading ("ninety days") and for comparing figures.
_NUMBER_VALUES = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                             "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_NUMBER_VALUES.update(_TENS)
_NUMBER_WORDS = "|".join([w for w in _NUMBER_VALUES if w != "zero"] + ["hundred", "thousand"])


_TIMING_WORDS = re.compile(r"\b(?:promptly|without (?:undue |unreasonable )?delay|as soon as (?:possible|practicable)|"
                           r"expeditious(?:ly)?|immediately|forthwith|within a reasonable (?:time|period)|"
                           r"speedy|urgent(?:ly)?|prompt|period of time|limitation periods?|statutes? of limitations?|"
                           r"time[- ]limits?|deadlines?|as soon as circumstances (?:so )?permit|at any time|"
                           r"(?:no|not) later than|on the date)\b", re.I)


def _spellings(stem: str) -> set[str]:
    """A stem with its British/American variants ("labor" ~ "labour", "organiz" ~ "organis"): the
    texts use one spelling, questions either."""
    out = {stem, stem.replace("iz", "is"), stem.replace("is", "iz")}
    if stem.endswith("or"):
        out.add(stem[:-2] + "our")
    if stem.endswith("our"):
        out.add(stem[:-3] + "or")
    if stem.endswith("er"):
        out.add(stem[:-2] + "r")
    return out


def _base_forms(word: str) -> set[str]:
    """The word and the forms it may be inflected from ("slaps" -> "slap", "hinting" -> "hint",
    "pocketing" -> "pocket", "chats" -> "chat"): candidates, not a lemmatiser."""
    w = word.lower()
    out = {w}
    if len(w) > 4 and w.endswith("ies"):
        out.add(w[:-3] + "y")
    if len(w) > 3 and w.endswith("es"):
        out.add(w[:-2])
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        out.add(w[:-1])
    if len(w) > 4 and w.endswith("ied"):
        out.add(w[:-3] + "y")  # "bullied" -> "bully"
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            base = w[: -len(suffix)]
            out |= {base, base + "e"}
            if base[-1] == base[-2]:
                out.add(base[:-1])  # "slapping" -> "slap"
    return {v for form in out for v in _spellings(form)}  # "criticising" -> "criticize"


def _ordinary_word(word: str, english: frozenset[str]) -> bool:
    """Is this an ordinary English word, inflected or not? The model's vocabulary holds ~20,000
    whole words, mostly base forms: "slaps", "pals" and "chats" are split into pieces there."""
    return bool(_base_forms(word) & english)


def _unit_name(unit: str | None) -> str:
    if unit == "age":
        return "an age"
    if unit == "duration":
        return "a length of time"
    if unit == "timing":
        return "a time limit"
    if unit == "percent":
        return "a percentage"
    unit = (unit or "amount").lower()
    return unit if unit.endswith("s") else unit + "s"


def _stated_quantity(text: str, unit: str | None) -> bool:
    """Does the text state a number of this unit ("ninety days", "10 years")? An age is a number of
    years ("the age of eighteen years", "the age of 18"); a duration, a number of any unit of time."""
    if unit == "age":
        return bool(re.search(rf"\bage of (?:\d+|{_NUMBER_WORDS})\b|\b(?:\d+|{_NUMBER_WORDS})(?:[- ]\w+)?[- ]"
                              rf"years? (?:of age|old)\b", text, re.I))
    if unit == "duration":
        return any(_stated_quantity(text, u) for u in ("years", "months", "weeks", "days", "hours"))
    if unit == "timing":
        return _stated_quantity(text, "duration") or bool(_TIMING_WORDS.search(text))
    if unit == "percent":  # "10 per cent", "two-thirds", "a majority of"
        return bool(re.search(rf"\b(?:\d+(?:\.\d+)?|{_NUMBER_WORDS})\s*(?:%|per ?cent\b)|\b(?:one|two)[- ]thirds?\b|"
                              r"\b(?:one[- ])?half\b|\bmajority\b|\b\d+/\d+\b", text, re.I))
    stem = (unit or "").lower().rstrip("s")
    if not stem or stem in ("how much", "fines of", "fine of"):
        # any figure, but not the number of a provision referred to ("Article 12", "paragraph 3"); a number
        # word counts with what it counts ("at least four years", "two thirds")
        return bool(re.search(r"\d", re.sub(r"\b(?:articles?|arts?\.?|paragraphs?|paras?\.?)\s*\d+\w*", " ",
                                            text, flags=re.I))) or \
            bool(re.search(rf"\b(?:{_NUMBER_WORDS})[- ](?:years?|months?|weeks?|days?|hours?|thirds?|per ?cent|percent)\b",
                           text, re.I))
    if stem == "year":  # "persons below eighteen years of age" states an age, not a number of years
        text = re.sub(rf"\bage of (?:\d+|{_NUMBER_WORDS})(?:[- ]\w+)? years?\b|"
                      rf"\b(?:\d+|{_NUMBER_WORDS})(?:[- ]\w+)?[- ]years? (?:of age|old)\b", " ", text, flags=re.I)
    return bool(re.search(rf"\b(?:\d+|{_NUMBER_WORDS})(?:[- ]\w+)?[- ]{re.escape(stem)}s?\b", text, re.I))


def _quantity_unit(m: re.Match, question: str = "") -> str | None:
    """What a _QUANTITY match counts: a unit ("years", "euros"), "age", "duration", "timing", or None (an amount)."""
    unit = m.group("unit") or m.group("unit_in") or ("age" if m.group("age") else "duration" if m.group("duration")
                                                     else "timing" if m.group("timing") else None)
    if unit and unit.lower().startswith("year") and re.search(r"\byears? (?:of age|old)\b", question, re.I):
        return "age"  # "under how many years of age ..."
    if unit is None and re.search(r"\b(?:percentage|proportion|fraction)\b", m.group(0), re.I):
        return "percent"  # "what percentage of the proceeds ..."
    return unit


# The words a provision uses when it speaks of a figure without stating it ("the establishment of a
# minimum age"): a "partly" to a question asking whether it sets one. A time limit has none: the
# texts' own words for one ("promptly", "without delay") state it (_stated_quantity).
_FIGURE_WORDS = {"age": r"\bage\b", "duration": r"\b(?:periods?|durations?|promptly|without (?:undue )?delay|"
                                              r"within a reasonable (?:time|period)|expeditious(?:ly)?)\b"}


def _figure_asked(topic: str) -> re.Match | None:
    """The figure a coverage question asks the provision to set ("a deadline for ...", "a minimum age
    of ...", "how long data has to be preserved"), or None. "The age of criminal responsibility" and
    "how old the victim is" name a subject, not a figure asked for."""
    m = _QUANTITY.search(topic)
    if m is None or (m.group("age") and re.match(r"(?:age of|how old)\b", m.group(0), re.I)) \
            or len(m.group(0).split()) > 5:  # "number of persons detained for more than 48 hours" is a subject
        return None
    return m


_DIGIT_WORDS = "|".join(w for w, v in _NUMBER_VALUES.items() if 0 < v < 10)
_NUMBER = (rf"(\d{{1,4}}|(?:{'|'.join(_TENS)})(?:[- ](?:{_DIGIT_WORDS}))?|"
           rf"{'|'.join(sorted((w for w, v in _NUMBER_VALUES.items() if 0 < v < 20), key=len, reverse=True))})")


def _value(word: str) -> int:
    if word.isdigit():
        return int(word)
    return sum(_NUMBER_VALUES.get(w, 0) for w in re.split(r"[- ]", word.lower()))


def _figure_phrase(unit: str, asked: set[int], found: set[int]) -> str:
    """ "an age of 15, not 18", "90 days, not 180" """
    said, not_said = " or ".join(map(str, sorted(found))), " or ".join(map(str, sorted(asked)))
    if unit == "age" and not said[:1].isdigit():
        return f"an age {said}, not {not_said}"  # "an age below 18, not over 18"
    return f"an age of {said}, not {not_said}" if unit == "age" else f"{said} {unit}s, not {not_said}"


_BELOW = re.compile(r"(?:\bunder|\bbelow|\byounger than|\bless than|\b(?:not|never)\s+(?:yet\s+)?(?:attained|reached)"
                    r"\s+(?:the\s+age\s+of)?)[\s-]*(?:the\s+age\s+of\s+)?$", re.I)
_ABOVE = re.compile(r"(?:\bover|\babove|\bolder than|\bmore than|(?<!not )(?<!never )\b(?:attained|reached)"
                    r"\s+(?:the\s+age\s+of)?)[\s-]*(?:the\s+age\s+of\s+)?$", re.I)


def age_bounds(text: str) -> set[tuple[int, str]]:
    """The ages a text states with their sense: (18, "below") for "persons below eighteen years of
    age" or "has not attained the age of eighteen", (15, "above") for "have attained the age of
    fifteen", (16, "exact") for "a 16 year old"."""
    out: set[tuple[int, str]] = set()
    for m in re.finditer(rf"\bage of {_NUMBER}\b|\b{_NUMBER}[- ]years?[- ](?:of age|old)\b|"
                         rf"\b(?:under|below|over|above|aged)[\s-]+(?:the\s+age\s+of\s+)?{_NUMBER}(?:s\b|\b(?![- ]"
                         rf"(?:days?|weeks?|months?|hours?|per|%)))", text, re.I):
        value = _value(next(g for g in m.groups() if g))
        before = text[max(0, m.start() - 40):m.start() + m.group(0).lower().find(next(g for g in m.groups() if g).lower())]
        sense = "below" if _BELOW.search(before) else "above" if _ABOVE.search(before) else "exact"
        out.add((value, sense))
    return out


_AGE_RANGE = re.compile(rf"\b{_NUMBER}\s*(?:to|-|\u2013|and)\s*{_NUMBER}\b", re.I)  # "aged 14 to 17", "between 15 and 18"


def _age_met(asked: tuple[int, str], said: set[tuple[int, str]]) -> bool:
    """Does one of the ages a provision states cover the age asked about? "Below eighteen" covers
    a 16-year-old and "under 16", not a 25-year-old or "over 18"; an age stated plainly covers itself."""
    v, sense = asked
    for n, s in said:
        if (n == v and (s == sense or "exact" in (s, sense))) \
                or (s == "below" and (v < n if sense == "exact" else sense == "below" and v <= n)) \
                or (s == "above" and (v > n if sense == "exact" else sense == "above" and v >= n)):
            return True
    return False


def stated_figures(text: str) -> dict[str, set[int]]:
    """The ages and lengths of time a text states, by unit: {"age": {15, 18}, "day": {90}}. "under 18"
    and "the age of eighteen years" are ages; "ninety days", "six months" lengths of time."""
    out: dict[str, set[int]] = {}
    ages = re.finditer(rf"\bage of {_NUMBER}\b|\b{_NUMBER}[- ]years?[- ](?:of age|old)\b|"
                       rf"\b(?:under|below|over|above|aged)[\s-]+(?:the\s+age\s+of\s+)?{_NUMBER}(?:s\b|\b(?![- ](?:days?|weeks?|"
                       rf"months?|hours?|per|%)))", text, re.I)
    for m in ages:
        out.setdefault("age", set()).add(_value(next(g for g in m.groups() if g)))
    no_ages = re.sub(rf"\bage of {_NUMBER}[- ]years?|\b{_NUMBER}[- ]years?[- ](?:of age|old)\b", " ", text, flags=re.I)
    for m in re.finditer(rf"\b{_NUMBER}[- ](day|week|month|year|hour)s?\b", no_ages, re.I):
        out.setdefault(m.group(2).lower(), set()).add(_value(m.group(1)))
    return out


def _as_said(concept: Concept, text: str) -> Concept:
    """The concept with only the alternatives the text uses (the whole concept when it uses none)."""
    used = frozenset(a for a in concept.alternatives if carried([Concept(concept.label, frozenset({a}))], text))
    return Concept(concept.label, used) if used else concept


_HEREINAFTER = re.compile(r"\((?:hereinafter|hereafter)\s+(?:referred\s+to\s+as\s+|called\s+)?(?:the\s+)?"
                          r"[\"\u201c']?(?:the\s+)?(?P<short>[A-Za-z][\w -]{1,40}?)[\"\u201d']?\)", re.I)
_DETERMINERS = frozenset("the a an any each every all this that these those such its their our".split())


def short_names(text: str) -> tuple[tuple[str, str], ...]:
    """A document's own short names for what it first names in full: "the Human Rights Committee set
    up in part IV of the Covenant (hereinafter referred to as the Committee)" -> ("Human Rights
    Committee", "Committee"). The full name is the run of capitalised words, not opening with a
    determiner, that ends in the short name's last word and holds its every capitalised word."""
    out: list[tuple[str, str]] = []
    for m in _HEREINAFTER.finditer(text):
        short = " ".join(m.group("short").split())
        head = short.split()[-1]
        before = text[max(0, m.start() - 300):m.start()]
        runs = list(re.finditer(r"(?:\b[A-Z][\w'-]*\s+(?:(?:of|on|for|and)\s+(?:the\s+)?)?){1,6}" + re.escape(head) + r"\b",
                                before))
        if not runs:
            continue
        words = runs[-1].group(0).split()
        while words and words[0].lower() in _DETERMINERS:
            words = words[1:]
        full = " ".join(words)
        capitals = {w for w in short.split() if w[:1].isupper()}
        if full.lower() != short.lower() and capitals <= set(words) and (full, short) not in out:
            out.append((full, short))
    return tuple(out)


_BOTH = re.compile(r"\bboth\b[^?]+\band\b", re.I)
# A condition opening the question frames it; the number asked for is in the main clause: "If a
# country wants to leave UNTOC, how long after notifying ... does the withdrawal take effect?"
_CONDITION = re.compile(r"^\s*(?:if|when|once|suppose|assuming)\b.*?,\s*(?=(?:how|what|which|who|when|where|"
                        r"does|do|is|are|can|could|must|may|will|would|should|shall)\b)", re.I)
# Where a subject's head ends and a clause restating or narrowing it begins.
_CLAUSE = re.compile(r"\s(?:that|which|who|whose|meant\s+to|intended\s+to|used\s+(?:for|to)|in\s+order\s+to|"
                     r"so\s+that)\s", re.I)
_STOP_TOPIC = re.compile(r"^\s*(?:the|a|an|any|of|about)\s+", re.I)
# An example or a gloss of the subject, set off from it: "shell banks, i.e. banks with no physical
# presence", "advertising the offences (e.g. ads offering ...)", "procedural powers, like search and
# seizure, ...". It illustrates what is asked; the subject itself is what the verdict is about.
_ILLUSTRATION = re.compile(r"\s*(?:[,;(\u2013\u2014]|\s-)\s*(?:e\.\s?g\.?|i\.\s?e\.?|eg|ie|for example|for instance|"
                           r"such as|like|say|namely|that is)(?:,|:)?\s+[^,;()\u2013\u2014]{1,200}?(?:\)|(?=[,;\u2013\u2014])|$)",
                           re.I)
# "Does Article 2 define 'child'?", "Is 'minor' defined in Art. 9?": asked whether the provision
# defines a term, not whether it uses it.
_DEFINE = re.compile(r"^(?:define[sd]?|defining|(?:give|contain|provide|include|offer|have|set out)s?\s+(?:an?\s+|any\s+)?"
                     r"(?:definition|meaning)\s+(?:of|for)|an?\s+definition\s+(?:of|for))\s+(?P<term>.+)$", re.I)
_DEFINE_VERB = re.compile(r"\b(?:define[sd]?|defining)\s+(?:(?:an?|the|what)\s+)?\W*$", re.I)  # right before the topic
_QUOTES = " '\"\u2018\u2019\u201c\u201d\u00ab\u00bb\u201e"


def definition_asked(question: str, topic: str, defined: Iterable[str]) -> str | None:
    """The term a coverage question asks the provision to define ("child"), or None. The term
    is the longest of the texts' `defined` terms the subject opens with, or the whole subject when
    it is short; anything more ("define a child as anyone under 18", "computer data broadly")
    asks what the definition says, which the provision's words judge."""
    m = _DEFINE.match(topic.strip())
    if m is not None:
        text = m.group("term")
    else:  # the verb read as the coverage verb: "Does Article 1 define traffic data?"
        at = question.lower().find(topic.strip(_QUOTES).lower()[:30])
        if at <= 0 or not _DEFINE_VERB.search(question[:at]):
            return None
        text = topic
    text = re.sub(r"\s+(?:in|under|by)\s+(?:its|the|this)?\s*$", "", text.strip(" ?."), flags=re.I)
    text = re.sub(r"^(?:what|who)\s+(?:counts?\s+as|is\s+meant\s+by|qualifies\s+as)\s+", "", text, flags=re.I)
    text = re.sub(r"^(?:what|who)\s+(?:an?\s+|the\s+)?(.+?)\s+(?:is|are|means?)$", r"\1", text, flags=re.I)
    text = re.sub(r"^(?:(?:the\s+)?(?:terms?|expression|word|notion|concept)\s+)?(?:an?\s+|the\s+)?", "", text, flags=re.I)
    text = text.strip(_QUOTES)
    stems = tokenize(text)
    known = [d for d in defined if tokenize(d) and tokenize(d) == stems[:len(tokenize(d))]]
    term = max(known, key=lambda d: len(tokenize(d))) if known else text
    rest = stems[len(tokenize(term)):]
    if not stems or rest or (not known and len(stems) > 4):
        return None
    return term


@dataclass
class Sentence:
    text: str
    provision: Provision
    passage: Passage
    rank: int
    score: float = 0.0


_NEGATOR = re.compile(r"\b(?:not|no|non|without|nor|neither)\W+(?:\w+\W+){0,2}$", re.I)


def _contrast(missing: Sequence[Concept], named: Sequence[Sentence], title: str,
              question: str) -> tuple[str, str, list[Sentence]] | None:
    """The provision speaks of the opposite of what is asked: "bribery between private companies"
    of an article on "public officials" (WordNet's direct antonyms, thesaurus.antonyms). Then the
    answer is no, shown by the sentences that say the opposite. Not when the question uses both
    words ("public and private"), when the provision also uses the asked word, or when the opposite
    is negated ("heard without being present" says "absent")."""
    said = set(tokenize(" ".join([title] + [s.text for s in named])))
    asked = set(tokenize(question))
    for concept in missing:
        stems = tokenize(concept.label)
        if len(stems) != 1 or stems[0] in said:
            continue
        for opposite in sorted(thesaurus.antonyms(concept.label)):
            if set(tokenize(opposite)) & asked:
                continue
            word = re.compile(rf"\b{re.escape(opposite)}\b", re.I)
            shown = [sentence for text, sentence in [(title, None)] + [(s.text, s) for s in named]
                     if any(not _NEGATOR.search(text[:m.start()]) for m in word.finditer(text))]
            if shown:
                quoted = [s for s in shown if s is not None][:2] or list(named[:1])
                return concept.label, opposite, quoted
    return None


class ExtractiveAnswerer:
    def __init__(self, index: Index, settings: Settings,
                 search: Callable[[str, str | None], list[Passage]] | None = None,
                 hidden: Callable[[], frozenset[str]] = frozenset):
        self.index = index
        self.settings = settings
        self.search = search  # topic search over all documents, for "is it addressed elsewhere?"
        self.hidden = hidden  # documents the current viewer may not see: their words never count
        self._pervasive_memo: dict[tuple, bool] = {}
        self._pervasive_for: object = None
        self._phrases: dict[tuple[str, frozenset[str]], bool] = {}
        self._phrases_for: object = None
        self._short_names: dict[str, tuple[tuple[str, str], ...]] = {}  # by document hash
        self._names: frozenset[str] = frozenset()
        self._names_for: object = None

    # -- candidates ------------------------------------------------------------------
    def sentences(self, passages: list[Passage], limit: int = 8) -> list[Sentence]:
        out: list[Sentence] = []
        seen: set[str] = set()
        for rank, p in enumerate(passages[: limit + 3]):
            parsed = self.index.parsed(p.chunk.doc_id)
            if parsed is None:
                continue
            text = parsed.document.text
            lo, hi = p.chunk.start, p.chunk.end
            target = self.index.provision(p.target) if p.target else None
            if target is not None:  # only the named provision, even if its chunk is larger
                lo, hi = max(lo, target.start), min(hi, target.end)
            for s_start, s_end, shown in sentence_spans(text, lo, hi):
                if shown in seen:
                    continue
                prov = parsed.deepest_at(s_start, s_end) or self.index.provision(p.chunk.provision_id)
                if prov is None:
                    continue
                seen.add(shown)
                out.append(Sentence(shown, prov, p, rank))
        return out

    def score(self, question: str, sentences: list[Sentence], q_emb: list[float] | None = None) -> None:
        if not sentences:
            return
        emb = self.index.embedder
        q = np.array(q_emb if q_emb is not None else emb.embed_query(question), dtype=np.float32)
        vecs = self.index.sentence_vectors([s.text for s in sentences])
        cos = vecs @ q
        q_terms = set(tokenize(question))
        for s, c in zip(sentences, cos):
            terms = set(tokenize(f"{s.text} {s.provision.article_title or ''}"))  # the title is context
            overlap = len(q_terms & terms) / max(1, len(q_terms))
            prior = 0.15 if s.passage.reason == "reference" else 0.1 / (1 + s.rank)
            s.score = float(0.7 * c + 0.3 * overlap + prior)

    # -- answer ----------------------------------------------------------------------
    def run(self, question: str, passages: list[Passage], assumed_document: str | None = None,
            expansion: str = "", scope: list[str] | None = None, resolved: str | None = None) -> Answer:
        """`resolved` is the question as retrieval understood it (a follow-up with its topic):
        sentences are scored against that, while the answer keeps the question as asked."""
        cfg = self.settings.answer
        support = [p for p in passages if p.reason != "cross_reference"]
        cov = coverage_question(question)
        if cov is None and any(p.reason == "reference" for p in passages) and not _outside_facts(question):
            cov = loose_coverage_question(question, self.index.documents) \
                or yes_no_about_article(question, self.index.documents)
        references = [p for p in support if p.reason == "reference"]
        # A state, body or person no text names ("Is Kenya's commission the body Article 6
        # requires?"): no provision can say yes or no about it, however well it matches the rest.
        names = self._absent_names(question, plainly=True, possessive_only=cov is not None) if references else []
        if cov and references and not names:
            judged = self._coverage(question, cov, passages, assumed_document)
            if judged is not None:
                return judged
        if references and (names or _outside_facts(question) or _QUANTITY.search(question)
                           or _BODY_READING.search(question) or _INSTRUMENT_PART.search(question)
                           or self._absent_codes(question)):
            gap = self._named_gap(question, resolved, references, passages, assumed_document, names)
            if gap is not None:
                return gap
        sentences = self.sentences(support)
        self.score(f"{resolved or question} {expansion}".strip(), sentences)
        best = max((s.score for s in sentences), default=0.0)
        best_dense = max((p.dense or 0.0 for p in support), default=0.0)
        if not references:
            topic = strip_documents(resolved or question, [], self.index.documents)
            record: dict = {}
            reason = self.not_addressed_reason(question, topic, support, record=record)
            if reason and _QUANTITY.search(question) and reason.startswith("none of the provisions"):
                # Say what the texts do set instead of a number ("effective, proportionate and dissuasive").
                said = self._what_is_set(topic, sentences, scope)
                answer = self._compose(question, [(f"The texts do not address this: {reason}. What they do "
                                                   "say:", said)], passages, assumed_document,
                                       Verdict(kind="not_addressed", subject=topic, reason=reason))
                answer.refused = True
                return answer
            if reason:
                refusal = self._refusal(question, passages, best, reason)
                if record and "never use the term" in reason:
                    refusal.verdict.signals = record
                return refusal
        if not references and (best < cfg.min_sentence_score or best_dense < cfg.min_passage_score):
            return self._refusal(question, passages, best)
        answerability: dict = {}
        if not references:
            sig, names, absent = self._answerability(question, resolved or question, support)
            answerability = sig.as_dict()
            if not weigh.answer_stands(sig):
                refusal = self._refusal(question, passages, best, self._unanswered_reason(sig, names, absent))
                refusal.answerability = answerability
                refusal.verdict.signals = answerability
                return refusal
        if references:
            chosen = self._reference_sentences(sentences)
            lead = "In " + _join_labels([self._label(p) for p in references]) + ":"
        elif scope and len(scope) >= 2:  # a comparison: each named document gets its say
            per_doc = max(2, cfg.max_sentences // len(scope))
            chosen = []
            for doc_id in scope:
                mine = [s for s in sentences if s.provision.doc_id == doc_id]
                top = max((s.score for s in mine), default=0.0)
                chosen += self._top(mine, per_doc, floor=top * 0.75)
            labels = list(dict.fromkeys(s.provision.label for s in chosen))
            lead = "Compared: " + _join_labels(labels[:4]) + ":"
        else:
            chosen = self._top(sentences, cfg.max_sentences, floor=best * 0.75)
            labels = list(dict.fromkeys(s.provision.label for s in chosen))
            if answerability and answerability.get("wcov_best", 1.0) < PARTIAL_EVIDENCE:
                # Found by meaning more than by words: say so rather than claim the texts address it.
                lead = ("The closest provisions found are " + _join_labels(labels[:3]) +
                        "; none of them uses most of the question's own terms:")
            else:
                lead = "The texts address this in " + _join_labels(labels[:3]) + ":"
        answer = self._compose(question, [(lead, chosen)], passages, assumed_document)
        answer.answerability = answerability
        return answer

    def _answerability(self, question: str, resolved: str,
                       support: list[Passage]) -> tuple[weigh.AnswerabilitySignals, list[str], list[str]]:
        """What weighs whether the passages answer a question naming no article (weigh.py): what
        the question is like, and what the texts lack of it (with the names and terms lacking)."""
        topic = _TIME_WORDS.sub(" ", strip_documents(resolved, [], self.index.documents))
        concepts = key_concepts(topic, self._is_common)
        carried_sets = [{id(c) for c in carried(concepts, p.chunk.embed_text)} for p in support[:6]]
        names = self._absent_names(question)
        in_texts = [self._in_texts(c) for c in concepts]
        absent = [c.label for c in weigh.rare_absent(concepts, in_texts)]
        prior = (weigh.question_prior(self.index.embedder.embed_query(question), self.settings.embedding.model)
                 if weigh.has_question_model() else None)
        sig = weigh.answerability_signals(concepts, in_texts, carried_sets, prior, bool(_EVENTS.search(question)),
                                          len(names))
        return sig, names, absent

    def _absent_names(self, question: str, plainly: bool = False, possessive_only: bool = False) -> list[str]:
        """Capitalised words of the question that no text uses ("Kenya", "Brazil"): a state, body or
        person the treaty texts cannot say anything about. Not a word opening a sentence, a frame
        word ("Which"), or part of a document's name.

        With `plainly` (alone, a name then decides, so it must be one): only words written the way
        names are, a possessive ("Kenya's"), after "in" or "from" ("apply in Brazil"), or a run
        of capitalised words none of which the texts use ("Brazilian Federal Police"); not a
        capitalised subject ("does it cover Grooming?", "Child Grooming"), and nothing in a question
        written in Title Case. With `possessive_only`, only the possessive and the place: in a
        coverage question "data stored by Google" is still data, "Kenya's commission" is Kenya's."""
        spans = [m.span for m in find_documents(question, self.index.documents)]
        frame = frame_stems()
        def unused(word: str) -> bool:
            return not any(self._df(v) for s in tokenize(word) for v in _spellings(s))

        if plainly and _TITLE_CASE.search(question):
            return []  # Title Case ("Of The", "Into"): capitals say nothing here

        def plain(m: re.Match) -> bool:
            if _POSSESSIVE.match(question, m.end()):
                return True
            if _PLACE_BEFORE.search(question, 0, m.start()):
                return True
            if possessive_only:
                return False
            left = re.search(r"(?:[A-Z][a-z]+\s+)+$", question[:m.start()])
            right = re.match(r"(?:\s+[A-Z][a-z]+)+", question[m.end():])
            run = ((left.group(0) if left else "") + m.group(0) + (right.group(0) if right else "")).split()
            return len(run) >= 2 and all(unused(w) for w in run)

        def a_name(m: re.Match) -> bool:
            stems = tokenize(m.group(0))
            opens = not question[:m.start()].strip() or question[:m.start()].rstrip()[-1] in ".?!:;(\"'\u201c"
            return bool(stems) and not opens and not any(s in frame for s in stems) \
                and not any(a <= m.start() < b for a, b in spans) and unused(m.group(0)) \
                and (not plainly or plain(m))

        return list(dict.fromkeys(m.group(0) for m in _NAME.finditer(question) if a_name(m)))

    @staticmethod
    def _unanswered_reason(sig: weigh.AnswerabilitySignals, names: list[str], absent: list[str]) -> str:
        quoted = lambda words: ", ".join(f"\u201c{w}\u201d" for w in words[:3])  # noqa: E731
        if names:
            return f"none of the texts names {quoted(names)}, and no provision found carries the whole of its subject"
        if absent:
            return f"the texts never use {quoted(absent)}, and no provision found carries the whole of its subject"
        return ("it asks what has happened or holds in practice, which treaty texts do not record; no "
                "provision found carries the whole of its subject")

    def _reference_sentences(self, sentences: list[Sentence]) -> list[Sentence]:
        """A named provision is quoted in document order, not re-ranked."""
        named = [s for s in sentences if s.passage.reason == "reference"]
        named.sort(key=lambda s: (s.provision.doc_id, s.passage.chunk.start, s.provision.start))
        return named[: max(self.settings.answer.max_sentences, 8)]

    def _top(self, sentences: list[Sentence], n: int, floor: float) -> list[Sentence]:
        ranked = sorted(sentences, key=lambda s: -s.score)
        out: list[Sentence] = []
        per_prov: dict[str, int] = {}
        for s in ranked:
            if s.score < floor and out:
                break
            if per_prov.get(s.provision.id, 0) >= 3:
                continue
            per_prov[s.provision.id] = per_prov.get(s.provision.id, 0) + 1
            out.append(s)
            if len(out) >= n:
                break
        return out

    def _coverage(self, question: str, cov: re.Match, passages: list[Passage],
                  assumed_document: str | None) -> Answer | None:
        """ "Does Article X cover Y?": a verdict from X's own words (verdict.py), X always cited,
        and where X does not carry Y fully, where Y is addressed instead. None when the topic has
        no key concept to judge (the named provision is then simply quoted)."""
        topic = _STOP_TOPIC.sub("", cov.group("topic")).strip(" ?.")
        # "deal with cases where the victim's age is uncertain": the cases are the subject's frame
        topic = re.sub(r"^(?:the\s+)?(?:cases?|situations?|instances?|circumstances)\s+(?:where|in which|when)\s+", "",
                       topic, flags=re.I) or topic
        topic = strip_documents(topic, [], self.index.documents) or topic  # "... under the Lanzarote Convention"
        topic = re.sub(r"\s+(?:under|in|of|by|from|within|according to)(?:\s+the)?\s*$", "", topic, flags=re.I) or topic
        topic = self._corrected(topic)  # "child suport"
        core = _ILLUSTRATION.sub("", topic).strip(" ,;") or topic  # the subject without its examples
        # "Does Article 2 set a deadline for submitting a communication?": the deadline is a figure the
        # provision states or not; the rest of the subject is judged by its words.
        figure = _figure_asked(topic)
        rest = f"{topic[:figure.start()]} {topic[figure.end():]}".strip() if figure else topic
        inside = [p for p in passages if p.reason == "reference"]
        inside = [p for p in inside if p.target == inside[0].target] if inside else inside  # the first one named
        parsed = self.index.parsed(inside[0].chunk.doc_id) if inside else None
        if parsed is not None:  # "the Human Rights Committee" is "the Committee" in the Protocol's own words
            doc = parsed.document
            if doc.hash not in self._short_names:
                if len(self._short_names) > 256:
                    self._short_names.clear()
                self._short_names[doc.hash] = short_names(doc.text)
            for full, short in self._short_names[doc.hash]:
                rest = re.sub(rf"\b{re.escape(full)}\b", short, rest, flags=re.I)
        concepts = key_concepts(rest, self._is_common, ordinary=True, is_rare=self._is_rare) if rest else []
        if figure and not concepts:
            concepts = key_concepts(topic, self._is_common, ordinary=True, is_rare=self._is_rare)
        if not concepts or not inside:
            return None
        named = self.sentences(inside, limit=len(inside))
        if not named:
            return None
        # A concept in most of the treaty's provisions ("children" in the CRC) cannot tell its
        # articles apart: judge by the others when there are others. Judged by the words the named
        # provision uses for it: "petition" in the Protocol's one article on petitions tells it apart,
        # though "communication", the same concept's other word, is in most of the Protocol.
        doc_id = inside[0].chunk.doc_id
        said = " ".join(s.text for s in named)
        concepts = [c for c in concepts if not self._pervasive(doc_id, _as_said(c, said))] or concepts
        label = self._label(inside[0])
        paragraphs: dict[str, Paragraph] = {}
        by_text: dict[str, Sentence] = {}
        for s in named:
            key = s.provision.id.split("/point_")[0].split("/sub_")[0]
            paragraphs.setdefault(key, Paragraph(label=s.provision.label, sentences=[], provision_id=key))
            paragraphs[key].sentences.append(s.text)
            by_text.setdefault(s.text, s)
        title = named[0].provision.article_title or ""
        obligation = asks_obligation(question)
        judged = judge_coverage(concepts, list(paragraphs.values()), title, obligation=obligation)
        if judged.kind == "partly" and not judged.permissive:
            # A trailing clause restates or narrows the subject ("images of minors that do not show a
            # real child"): when the subject's head is carried in full, the clause cannot turn a
            # "yes" into a "partly" by its wording alone.
            head = _CLAUSE.split(topic, maxsplit=1)[0].strip(" ,")
            in_head = key_concepts(head, self._is_common, ordinary=True, is_rare=self._is_rare) if head != topic else []
            head_concepts = [c for c in concepts if c in in_head]
            if head_concepts and len(head_concepts) >= 2:
                better = judge_coverage(head_concepts, list(paragraphs.values()), title, obligation=obligation)
                if better.kind == "yes":
                    judged = better
        if judged.kind == "partly" and not judged.permissive and core != topic:
            # An example of the subject ("e.g. over a video link") that the provision does not name
            # cannot hold back a "yes" the subject itself gets; where the subject alone is not
            # carried, the example still counts (it may be how the provision says it).
            in_core = key_concepts(core, self._is_common, ordinary=True, is_rare=self._is_rare)
            core_concepts = [c for c in concepts if c in in_core]
            if core_concepts:
                better = judge_coverage(core_concepts, list(paragraphs.values()), title, obligation=obligation)
                if better.kind == "yes":
                    judged = better
        unsaid = self._unsaid(judged, concepts) if judged.kind == "partly" and not judged.permissive else []
        if unsaid and _BOTH.search(topic):
            unsaid = []  # "both a public hearing and a jury trial": a half no text uses is not said
        if unsaid:
            # The asker's own words: an ordinary English word that no text of the corpus uses, nor
            # any glossary equivalent of it ("skin colour" where the treaties say "colour"), cannot
            # tell this provision from any other, so it cannot hold back a "yes" that every concept
            # the texts do use supports, two at least and more than the unused ones.
            known = [c for c in concepts if c not in unsaid]
            better = judge_coverage(known, list(paragraphs.values()), title, obligation=obligation)
            if better.kind == "yes":
                judged = better
            else:
                unsaid = []
        evidence = [by_text[s] for _, s in judged.evidence if s in by_text]
        if not evidence and judged.kind != "no":
            evidence = named[:2]  # the title carries the subject ("Illegal access"): quote the opening
        subject = topic[:1].upper() + topic[1:]
        sections: list[tuple[str, list[Sentence]]] = []
        instead: list[Sentence] = []
        instead_shown: list[Sentence] = []  # the closest provision, when none carries the whole subject
        apart = all(c in judged.carried for c in judged.missing)  # every concept carried, only not together
        signals = None
        rule_kind = judged.kind
        if judged.kind == "partly" and not judged.permissive:
            # Both searches are by the topic alone, so that the weighing does not depend on how the
            # question named the document (named, assumed or carried over from the conversation).
            in_doc = self.search(topic, doc_id) if self.search is not None else []
            everywhere = self.search(topic, None) if self.search is not None else []
            instead = self._addressed_instead(concepts, topic, [], inside, in_doc, everywhere)
            articles = [s for s in instead if "preamble" not in s.provision.id
                        and s.passage.chunk.metadata.get("doc_type") == "treaty"]
            signals = self._signals(topic, concepts, paragraphs, title, named, inside, everywhere, in_doc,
                                    instead_same=any(s.provision.doc_id == doc_id for s in articles),
                                    instead_other=any(s.provision.doc_id != doc_id for s in articles))
            # What X shares with Y may be incidental ("no": Y is elsewhere) or X may say Y in its own
            # words ("yes"): weighed, not ruled (weigh.py).
            judged.kind = weigh.weigh_partly(signals)
            if judged.kind == "yes" and obligation and judged.evidence \
                    and permissive_evidence(judged.evidence, concepts):
                # Asked whether it is *required*: a provision that says it only as "shall consider"
                # or "may" does not require it, however well it matches the subject.
                judged.kind, judged.permissive = "partly", True
            if judged.kind == "yes" and judged.missing and not apart and _BOTH.search(topic):
                judged.kind = "partly"  # "both X and Y" asks for each: one it does not say is not a yes
            if judged.kind == "yes" and apart:
                judged.missing = []  # every concept is carried, across the provision's paragraphs
        unset = None  # the unit of the figure asked for, when the provision does not state it
        if figure is not None and not judged.excluded:
            unit = _quantity_unit(figure, question)
            said = " ".join([title] + [s.text for s in named])
            if not _stated_quantity(said, unit):
                unset = unit or ""
                instead = []  # where the rest of the subject is said is not where the figure is
                words = _FIGURE_WORDS.get(unit or "")
                if words and re.search(words, said, re.I):
                    judged.kind = "partly" if judged.kind == "yes" else judged.kind
                    evidence = [s for s in named if re.search(words, s.text, re.I)][:2] + \
                        [s for s in evidence if not re.search(words, s.text, re.I)][:1]
                else:
                    judged.kind = "no"
        figure_name = "" if unset is None else _unit_name(unset) if unset in ("age", "duration", "timing") else \
            "a percentage" if unset.lower().startswith("per") else \
            f"a number of {_unit_name(unset)}" if unset else "an amount"
        # "children under 18" where the provision says "fifteen years": a figure it states, but not that one
        other_figure = None
        if judged.kind in ("yes", "partly") and not judged.excluded and unset is None:
            asked = stated_figures(topic)
            said_figures = stated_figures(" ".join(s.text for s in named))
            asked_ages = age_bounds(topic)
            for unit_key, values in asked.items():
                # One age asked, not a range, is met by a sentence that bounds the age once and covers
                # it ("persons below eighteen years of age" covers 16). A sentence with a range ("attained
                # fifteen but not eighteen ... priority to the oldest") may say what is allowed, not
                # what is barred: it does not count.
                if unit_key == "age" and len(asked_ages) == 1 and not _AGE_RANGE.search(topic):
                    age = next(iter(asked_ages))
                    bounds = [b for b in (age_bounds(s.text) for s in named) if len(b) == 1]
                    if any(_age_met(age, b) for b in bounds):
                        continue
                    opposite = [(n, s) for b in bounds for n, s in b if n == age[0] and {s, age[1]} == {"below", "above"}]
                    if opposite:  # "persons over 18" where the provision says "below eighteen years of age"
                        word = {"below": "below", "above": "over"}
                        other_figure = ("age", {f"{word[age[1]]} {age[0]}"}, {f"{word[opposite[0][1]]} {age[0]}"})
                        judged.kind = "no"
                        evidence = [s for s in named if age_bounds(s.text) == {opposite[0]}][:2] or evidence
                        break
                    # "anyone under 18" where the provision bars "any person who has not attained the
                    # age of fifteen years": an age it states in the same sense, but not that one
                    unmet = {n for b in bounds for n, s in b if s == age[1] or "exact" in (s, age[1])}
                    if unmet:
                        other_figure = ("age", {age[0]}, unmet)
                        judged.kind = "no"
                        evidence = [s for s in named if len(age_bounds(s.text)) == 1
                                    and next(iter(age_bounds(s.text)))[0] in unmet][:2] or evidence
                        break
                if said_figures.get(unit_key) and not values & said_figures[unit_key]:
                    other_figure = (unit_key, values, said_figures[unit_key])
                    judged.kind = "no"
                    evidence = [s for s in named if stated_figures(s.text).get(unit_key)][:2] or evidence
                    break
        contrast = None  # "private companies" asked of a provision on "public officials"
        if judged.kind in ("yes", "partly") and not judged.excluded and unset is None and other_figure is None:
            contrast = _contrast(judged.missing, named, title, topic)
            if contrast is not None:
                judged.kind, evidence = "no", contrast[2]
        # "Does Article 2 define 'child'?": yes only when it defines that very term (one of the texts'
        # defined terms, index.definitions); "sale of children means ..." defines another.
        term = definition_asked(question, topic, self.index.definitions) \
            if unset is None and other_figure is None and contrast is None else None
        defines: list[str] = []
        defined_here = False
        if term is not None:
            own_ids = {p.chunk.id for p in inside}
            wanted = tokenize(term)
            defines = [d for d, ids in self.index.definitions.items() if own_ids & set(ids)]
            defined_here = any(tokenize(d) == wanted for d in defines)
            if defined_here:
                judged.kind = "yes"
                # the sentence that opens with the term ("c) 'Structured group' shall mean") before
                # one that uses it ("... shall mean a structured group of three or more persons")
                evidence = sorted([s for s in named if term in s.text.lower()],
                                  key=lambda s: s.text.lower().find(term))[:1] or evidence
            else:
                judged.kind = "no"
                elsewhere = {cid for d, ids in self.index.definitions.items() if tokenize(d) == wanted
                             for cid in ids} - own_ids
                instead = [s for s in self.sentences([p for p in passages if p.chunk.id in elsewhere])
                           if term.lower() in s.text.lower()][:2]
        if term is not None and not defined_here:
            # the definitions nearest the term first ("sale of children" for "child")
            defines.sort(key=lambda d: -len(set(tokenize(d)) & set(tokenize(term))))
            shown = [f"“{d}”" for d in defines[:4]]
            others = "" if not defines else f": it defines {_join_labels(shown)}" if len(defines) <= 4 else \
                f": it defines {len(defines)} terms, among them {_join_labels(shown)}"
            sections.append((f"No. {label} does not define “{term}”{others}.",
                             [s for s in named if any(d in s.text.lower() for d in defines[:2])][:2] or named[:1]))
            if instead:
                where = _join_labels(list(dict.fromkeys(s.provision.label for s in instead)))
                sections.append((f"“{term[:1].upper() + term[1:]}” is defined in {where}:", instead))
        elif term is not None:
            sections.append((f"Yes. {label} defines “{term}”:", evidence))
        elif unset is not None and judged.kind == "no":
            about = f" ({title})" if title else ""
            sections.append((f"No. {label}{about} does not set {figure_name}: none of its sentences states one. "
                             f"It provides:", named[:1]))
        elif unset is not None and judged.kind == "partly":
            sections.append((f"Partly. {label} speaks of {figure_name} but does not state one:", evidence or named[:1]))
        elif other_figure is not None:
            sections.append((f"No. {label} states {_figure_phrase(*other_figure)}:", evidence))
        elif judged.kind == "yes" and rule_kind == "partly" and judged.missing:
            sections.append((f"Yes. {label} addresses {topic}, though not in these words (it does not say "
                             f"{', '.join(f'“{c.label}”' for c in judged.missing)}):", evidence))
        elif judged.kind == "yes" and rule_kind == "partly":
            sections.append((f"Yes. {label} addresses {topic}, across its paragraphs:", evidence))
        elif judged.kind == "yes":
            sections.append((f"Yes. {label} addresses {topic}:", evidence))
        elif judged.excluded:
            sections.append((f"No. {label} expressly excludes {topic}:", evidence))
        elif judged.permissive:
            sections.append((f"Partly. {label} addresses {topic}, but does not require it: it permits, "
                             f"invites or conditions it:", evidence))
        else:
            if signals is None:
                instead = instead or self._addressed_instead(concepts, topic, passages, inside)
            if judged.kind == "partly" and apart:
                sections.append((f"Partly. {label} mentions {display(judged.carried)}, but never all in one "
                                 f"paragraph ({display(judged.missing)} only apart from the rest):", evidence))
            elif judged.kind == "partly":
                sections.append((f"Partly. {label} mentions {display(judged.carried)} but does not expressly "
                                 f"address {display(judged.missing)}:", evidence))
            elif contrast is not None:  # and where the subject is, as after any "no"
                sections.append((f"No. {label} speaks of \u201c{contrast[1]}\u201d, not \u201c{contrast[0]}\u201d:",
                                 evidence))
            else:
                about = f" ({title})" if title else ""
                sections.append((f"No. {label}{about} does not address {topic}. It provides:", named[:1]))
            if instead:
                where = _join_labels(list(dict.fromkeys(s.provision.label for s in instead)))
                sections.append((f"{subject} is addressed instead in {where}:", instead))
            else:
                # "Not elsewhere" is a claim about every text: made only when no provision found carries
                # even part of the subject. A provision that carries more of it than the named one is
                # where the reader should look, and is quoted.
                lacking = [c for c in concepts if c not in judged.carried]
                closest, share, any_part = self._closest_elsewhere(
                    concepts, lacking, topic, passages, inside, *((in_doc, everywhere) if signals is not None else ()))
                if closest and share > len(judged.carried):
                    sections.append((f"No other provision found carries all of {topic}; the closest is "
                                     f"{closest[0].provision.label}:", closest))
                    instead_shown = closest
                elif any_part:
                    sections.append((f"No other provision found carries all of {topic}.", []))
                else:
                    sections.append((f"The texts searched do not address {topic} elsewhere.", []))
        verdict = Verdict(
            kind=judged.kind, subject=topic, provision=label,
            carried=[c.label for c in judged.carried], missing=[c.label for c in judged.missing],
            evidence=[s.text for s in (evidence if judged.kind != "no" or judged.excluded else named[:1])],
            instead=list(dict.fromkeys(s.provision.label for s in instead)),
            signals=signals.as_dict() if signals else {},
            reason={"yes": (f"{label} carries {display(judged.carried)}; what it does not say "
                            f"({display(judged.missing)}) is weighed as the asker's wording (weigh.py)."
                            if rule_kind == "partly" and judged.missing else
                            f"{label} carries every key concept ({display(judged.carried)}), across its paragraphs."
                            if rule_kind == "partly" else
                            f"{label} carries every key concept ({display(judged.carried)}) in one paragraph"
                            + (f"; the texts never use {display(unsaid)}." if unsaid else ".")),
                    "partly": (f"{label} carries {display(judged.carried or concepts)} only in permissive or "
                               f"conditional wording."
                               if judged.permissive else
                               f"{label} carries {display(judged.carried)}, not {display(judged.missing)}."),
                    "no": (f"{label} names {display(concepts)} only to exclude it." if judged.excluded
                           else f"{label} shares only {display(judged.carried)} with it; the treaty addresses "
                                f"{topic} in another article." if judged.carried and any(
                                    s.provision.doc_id == doc_id for s in instead)
                           else f"{label} shares only {display(judged.carried)} with it; {topic} is addressed "
                                f"instead in {_join_labels(list(dict.fromkeys(s.provision.label for s in instead)))}."
                           if judged.carried and instead
                           else f"{label} shares only {display(judged.carried)} with it, which is incidental to "
                                f"{topic}." if judged.carried
                           else f"No sentence of {label} carries {display(concepts)}.")}[judged.kind],
        )
        if unset is not None:
            verdict.reason = f"{label} does not state {figure_name}" + (
                "; it speaks of one only in words." if judged.kind == "partly" else ".")
            verdict.missing = list(dict.fromkeys(verdict.missing + [figure_name]))
            verdict.evidence = [s.text for s in ((evidence or named[:1]) if judged.kind == "partly" else named[:1])]
        elif other_figure is not None:
            verdict.reason = f"{label} states {_figure_phrase(*other_figure)}."
            verdict.evidence = [s.text for s in evidence]
        elif contrast is not None:
            verdict.reason = f"{label} speaks of \u201c{contrast[1]}\u201d, the opposite of \u201c{contrast[0]}\u201d."
            verdict.evidence = [s.text for s in evidence]
        elif term is not None:
            verdict.subject = term
            verdict.carried, verdict.missing = ([term], []) if defined_here else ([], [term])
            verdict.reason = f"{label} defines \u201c{term}\u201d." if defined_here else \
                f"{label} does not define \u201c{term}\u201d" + (f"; it defines {', '.join(defines[:4])}." if defines else ".")
            verdict.evidence = [s.text for s in (evidence if defined_here else named[:1])]
        extra = [s.passage for s in instead + instead_shown]
        return self._compose(question, sections, passages + extra, assumed_document, verdict)

    def _signals(self, topic: str, concepts: list[Concept], paragraphs: dict[str, Paragraph], title: str,
                 named: list[Sentence], inside: list[Passage], everywhere: list[Passage], in_doc: list[Passage],
                 instead_same: bool, instead_other: bool) -> weigh.CoverageSignals:
        """What weigh.py needs: the concepts each paragraph carries, and how close the subject is to
        the named provision's sentences against the best sentence found elsewhere."""
        from_title = set(map(id, carried(concepts, title))) if title else set()
        per_paragraph = [from_title | {id(c) for s in p.sentences for c in carried(concepts, s)}
                         for p in paragraphs.values()]
        q = np.asarray(self.index.embedder.embed_query(topic), dtype=np.float32)
        dense_named = float(np.max(self.index.sentence_vectors([s.text for s in named]) @ q))
        own = {p.chunk.id for p in inside}
        prefix = inside[0].chunk.provision_id.split("/para_")[0].split("#")[0]
        others = [p for p in everywhere if p.chunk.id not in own
                  and not p.chunk.provision_id.startswith(prefix + "/") and p.chunk.provision_id != prefix][:5]
        elsewhere = self.sentences(others, limit=len(others))
        # Nothing found elsewhere says nothing either way: a neutral margin, not a cosine of 0.
        dense_else = float(np.max(self.index.sentence_vectors([s.text for s in elsewhere]) @ q)) if elsewhere \
            else dense_named
        article = prefix.split("/")[:2]
        rank = next((i for i, p in enumerate(in_doc) if p.chunk.provision_id.split("/")[:2] == article), None)
        outside = others + [p for p in in_doc if p.chunk.id not in own
                            and p.chunk.provision_id.split("/")[:2] != article][:5]
        elsewhere = [{id(c) for c in carried(concepts, f"{p.chunk.text} {self._title(p)}")} for p in outside]
        return weigh.signals(concepts, per_paragraph, dense_named, dense_else, instead_same, instead_other,
                             rank_in_document=rank, elsewhere=elsewhere,
                             used={id(c) for c in concepts if self._in_texts(c)})

    def _title(self, p: Passage) -> str:
        prov = self.index.provision(p.chunk.provision_id)
        return (prov.article_title if prov else "") or ""

    def _outside(self, topic: str, passages: list[Passage], inside: list[Passage],
                 in_doc: list[Passage] | None, everywhere: list[Passage] | None) -> list[Passage]:
        """Passages found outside the named provision, in the order found: the topic searched in
        the same treaty, the question's own search, then the topic searched everywhere."""
        exclude = {p.chunk.id for p in inside}
        prefix = inside[0].chunk.provision_id.split("/para_")[0].split("#")[0]
        same_doc = prefix.split("/")[0]
        found = [p for p in passages if p.reason == "search"]
        if self.search is not None:
            found = ((self.search(topic, same_doc) if in_doc is None else in_doc) + found
                     + (self.search(topic, None) if everywhere is None else everywhere))
        out: list[Passage] = []
        seen: set[str] = set()
        for p in found:
            cid = p.chunk.id
            if cid in seen or cid in exclude or p.chunk.provision_id.startswith(prefix + "/") \
                    or p.chunk.provision_id == prefix:
                continue
            seen.add(cid)
            out.append(p)
        return out

    def _addressed_instead(self, concepts: list[Concept], topic: str, passages: list[Passage],
                           inside: list[Passage], in_doc: list[Passage] | None = None,
                           everywhere: list[Passage] | None = None) -> list[Sentence]:
        """Sentences outside the named provision whose paragraph carries every key concept:
        the same treaty first, then other treaties, a commentary last; at most two provisions."""
        same_doc = inside[0].chunk.doc_id
        keep = [p for p in self._outside(topic, passages, inside, in_doc, everywhere)
                if carries_all(concepts, f"{p.chunk.text} {self._title(p)}")]

        def rank(p: Passage) -> int:
            if p.chunk.doc_id == same_doc:
                return 0
            return 1 if p.chunk.metadata.get("doc_type") == "treaty" else 2

        keep = sorted(keep, key=rank)[:2]
        out: list[Sentence] = []
        for p in keep:
            sents = self.sentences([p], limit=1)
            sents.sort(key=lambda s: -len(carried(concepts, s.text)))
            out += sents[:2]
        return out

    def _closest_elsewhere(self, concepts: list[Concept], lacking: list[Concept], topic: str,
                           passages: list[Passage], inside: list[Passage], in_doc: list[Passage] | None = None,
                           everywhere: list[Passage] | None = None) -> tuple[list[Sentence], int, bool]:
        """When no provision outside the named one carries the whole subject: the treaty provision
        found that carries most of it (at least two concepts, one of them `lacking` from the named
        provision; the same treaty first), how many concepts it carries, and whether any provision
        found carries any part of it. So that the reader sees where to look instead of a claim
        that the texts are silent ("bribery of employees of private companies" is UNCAC Art. 21's
        "any person who ... works ... for a private sector entity")."""
        same_doc = inside[0].chunk.doc_id
        lacking_ids = {id(c) for c in lacking}
        best: tuple[tuple[int, int, int], Passage] | None = None
        any_part = False
        for order, p in enumerate(self._outside(topic, passages, inside, in_doc, everywhere)):
            if p.chunk.metadata.get("doc_type") != "treaty" or "preamble" in p.chunk.provision_id:
                continue
            got = carried(concepts, f"{p.chunk.text} {self._title(p)}")
            any_part = any_part or bool(got)
            if len(got) < 2 or (lacking_ids and not any(id(c) in lacking_ids for c in got)):
                continue
            key = (-len(got), 0 if p.chunk.doc_id == same_doc else 1, order)
            if best is None or key < best[0]:
                best = (key, p)
        if best is None:
            return [], 0, any_part
        sents = self.sentences([best[1]], limit=1)
        sents.sort(key=lambda s: -len(carried(concepts, s.text)))
        return sents[:1], -best[0][0], any_part

    # -- output ----------------------------------------------------------------------
    def _compose(self, question: str, sections: list[tuple[str, list[Sentence]]], passages: list[Passage],
                 assumed_document: str | None, verdict: Verdict | None = None) -> Answer:
        """Lines of the answer: each section's lead, then its quoted sentences with their labels."""
        citations: dict[str, Citation] = {}
        lines: list[str] = []
        for lead, chosen in sections:
            lines.append(lead)
            for s in chosen:
                cit = citations.get(s.provision.id)
                if cit is None:
                    cit = self._citation(s.provision, s.passage)
                    cit.key = str(len(citations) + 1)
                    citations[s.provision.id] = cit
                if s.text not in cit.sentences:
                    cit.sentences.append(s.text)
                cit.score = max(cit.score, s.score)
                lines.append(f"- {self._voice(s)}{s.text} [{s.provision.label}]")
        used = {c.provision_id for c in citations.values()}
        related = self._related(passages, used)
        return Answer(question=question, answer="\n".join(lines), verdict=verdict,
                      citations=list(citations.values()), related=related,
                      assumed_document=assumed_document, mode="extractive",
                      passages=passages)  # includes any passage found by a topic search

    def _named_gap(self, question: str, resolved: str | None, references: list[Passage],
                   passages: list[Passage], assumed_document: str | None,
                   names: Sequence[str] = ()) -> Answer | None:
        """A question about a named provision that asks for what no treaty text records (who
        ratified it, when; whether a state's agency is the body it requires: `names` no text
        uses) or for a number the provision does not state ("within how many days under Art.
        18?"): say so, and quote what the provision does say."""
        topic = strip_documents(resolved or question, [], self.index.documents)
        quoted = ", ".join(f"\u201c{n}\u201d" for n in names[:3])
        reason = f"none of the texts names {quoted}" if names else \
            self.not_addressed_reason(question, topic, references, named=True)
        if not reason:
            return None
        label = _join_labels(list(dict.fromkeys(self._label(p) for p in references)))
        said = self._reference_sentences(self.sentences(references))[:2]
        answer = self._compose(question, [(f"The texts do not address this: {reason}. What {label} does say:", said)],
                               passages, assumed_document, Verdict(kind="not_addressed", subject=topic, reason=reason))
        answer.refused = True
        return answer

    def refuse(self, question: str, passages: list[Passage], reason: str = "") -> Answer:
        return self._refusal(question, passages, 0.0, reason)

    def _refusal(self, question: str, passages: list[Passage], best: float, reason: str = "") -> Answer:
        related = self._related(passages, set())
        text = NOT_ADDRESSED
        if reason:
            text = f"The texts do not address this: {reason}."
        if related:
            text += " The closest provisions are listed as related, not as an answer."
        verdict = Verdict(kind="not_addressed", subject=question, reason=reason or "no provision carries the "
                          "question's key concepts")
        return Answer(question=question, answer=text, verdict=verdict, refused=True, related=related,
                      mode="extractive")

    def _what_is_set(self, topic: str, sentences: list[Sentence], scope: list[str] | None) -> list[Sentence]:
        """For a number the texts do not set: the normative sentences about the thing asked to be
        counted (its first key concept: "prison term" -> deprivation of liberty, sanctions)."""
        concepts = key_concepts(topic, self._is_common)
        if not concepts:
            return []
        head = concepts[0]
        pool = list(sentences)
        if self.search is not None:
            doc = scope[0] if scope and len(scope) == 1 else None
            found = self.search(head.label, doc)
            pool += self.sentences(found, limit=len(found))
        seen: set[str] = set()
        normative = []
        for s in pool:
            if s.text not in seen and s.provision.kind != "preamble":
                seen.add(s.text)
                normative.append(s)
        stems = {s.text: carried(concepts, s.text) for s in normative}
        ranked = sorted(normative, key=lambda s: (head not in stems[s.text], -len(stems[s.text]), -s.score))
        return [s for s in ranked if stems[s.text]][:2]

    # -- is the subject in the texts at all? ----------------------------------------------
    def _absent_codes(self, question: str) -> list[str]:
        """Names made of letters and digits ("AES-256", "SHA-1", "5G", "ISO 27001") that no text
        uses: a standard, product or version the treaties cannot speak of. Not a provision's
        number ("Art. 25(3)", "ETS 185" where a text uses it) or an ordinal ("2nd")."""
        out = []
        for m in _CODE.finditer(_REFERENCE_NUMBERS.sub(" ", question)):
            code = m.group(0)
            if not self._phrase_in_texts(code) and not self._phrase_in_texts(code.replace("-", " ")):
                out.append(code)
        return out

    def _other_instrument(self, question: str) -> str | None:
        """Why an instrument (or acronym) the question names is outside the texts: it is not
        indexed and no indexed text names it; None when there is none."""
        known = {m.span for m in find_documents(question, self.index.documents)}
        for m in _INSTRUMENT.finditer(question):
            name = _QUESTION_OPENING.sub("", m.group(0).strip())  # "Does the EU ... Act" -> "EU ... Act"
            start = m.start() + m.group(0).find(name)
            # a corpus document's name inside it ("Which Article Of The Budapest Convention Covers Law
            # ...", in Title Case) makes it a question about that document, not another instrument
            if any(a < start + len(name) and start < b for a, b in known) or name.lower() in ("un", "eu", "ngo", "ict"):
                continue
            words = [w for w in tokenize(name) if w]
            if len(words) == 1 and any(self._df(v) for v in _spellings(words[0])):
                continue  # an acronym the texts use
            if len(words) > 1 and self._phrase_in_texts(name):
                # Named by a text ("the EU Cybersecurity Act" in a commentary) is not contained in
                # it: a question about the instrument's own rules ("what penalties does the EU
                # Cybersecurity Act impose?"), no indexed document named, is still outside the texts.
                if known or not _ITS_OWN_RULES.search(question[:start]) \
                        or not _RULE_VERB.match(question, start + len(name)) or _PER_TEXTS.search(question):
                    continue
                return f"the texts do not contain the rules of the {name}; they only mention it"
            if name.isupper():
                return f"the texts never mention {name}"
            if re.match(r"general (?:comment|recommendation)", name, re.I):
                return f"the texts do not contain {name}: it is a treaty body's reading of a treaty, not its text"
            return f"the texts do not contain the rules of the {name}"
        return self._other_protocol(question, known)

    def _other_protocol(self, question: str, known: set[tuple[int, int]]) -> str | None:
        """A protocol named by what it is about ("the UNTOC firearms protocol", "the palermo
        trafficking protocol", "the Second Additional Protocol") that no indexed document's name
        covers is another instrument. Only a qualifier that names no indexed document counts:
        "the optional protocol", "the CRC protocol" and "the Budapest protocol" are the corpus's own."""
        frame = frame_stems()
        for m in _PROTOCOL_NAME.finditer(question):
            # Written as a name: "Protocol" and its qualifiers capitalised ("the Kyoto Protocol", "the
            # Second Optional Protocol"); "an interview protocol", "internet protocol addresses" and
            # "the complaints protocol" (the corpus's own, described) are words, not instruments.
            if any(a <= m.start("head") < b for a, b in known) or _AFTER_PROTOCOL_NOUN.match(question, m.end("head")):
                continue
            if not m.group("head")[0].isupper():
                # Described in lower case, a protocol is another instrument only when its subject is one
                # of the corpus treaties' sibling protocols that is not indexed ("the palermo trafficking
                # protocol", "the protocol on the smuggling of migrants")
                after = question[m.end("head"):m.end("head") + 60]
                if _SIBLING_SUBJECT.search(m.group("before")) or _LATER_ORDINAL.search(m.group("before")) or (
                        _PROTOCOL_ON.match(after) and _SIBLING_SUBJECT.search(after)):
                    words = m.group("before").split()
                    while words and (not tokenize(words[0]) or any(s in frame for s in tokenize(words[0]))):
                        words = words[1:]
                    name = " ".join(words + [m.group("head")])
                    if not self._phrase_in_texts(name):
                        return f"the texts do not contain the {name}"
                continue
            qualifiers: list[str] = []
            first = m.start("head")  # where the name starts, as written
            for w in reversed(list(re.finditer(r"[\w'\u2019-]+", m.group("before")))):
                written = w.group(0)
                word = re.sub(r"['\u2019]s$", "", written.lower())
                if word not in _GENERIC_PROTOCOL:  # "the Second Additional Protocol": read on past "additional"
                    stems = tokenize(word)
                    if not stems or any(t in frame for t in stems) or not written[0].isupper():
                        break
                    qualifiers.append(word)
                elif not written[0].isupper():
                    break
                first = m.start("before") + w.start()
            names = self._document_name_stems()
            own = [w for w in qualifiers if not all(t in names for t in tokenize(w))]
            name = question[first:m.end("head")]
            if own and not self._phrase_in_texts(name):
                return f"the texts do not contain the {name}"
        return None

    def _document_name_stems(self) -> frozenset[str]:
        """Stems of every name of every indexed document (titles, short titles, aliases)."""
        docs = self.index.documents
        if self._names_for is not docs:
            words = set()
            for doc_id, meta in docs.items():
                for n in [*ALIASES.get(doc_id, []), meta.title or "", meta.short_title or "", doc_id]:
                    words.update(tokenize(n))
            self._names, self._names_for = frozenset(words), docs
        return self._names

    def _phrase_in_texts(self, phrase: str) -> bool:
        """Does any chunk contain the phrase? A scan of every chunk, so remembered per index
        snapshot: an instrument's name is asked about again and again."""
        chunks = self.index.chunks
        if self._phrases_for is not chunks:
            self._phrases, self._phrases_for = {}, chunks
        memo = self._phrases  # another thread may swap in a new memo meanwhile
        needle = " ".join(phrase.lower().split())
        hidden = self.hidden()
        key = (needle, hidden)
        if key not in memo:
            memo[key] = any(needle in " ".join(c.text.lower().split()) for c in chunks.values()
                            if c.doc_id not in hidden)
        return memo[key]

    def _corrected(self, text: str) -> str:
        """Misspelt words as the corpus word they stand for ("suport" -> "support"); a spelling
        variant ("criminalising" for "criminalizing") stays as asked, the texts' own spelling rules
        (_spellings) read it."""
        def fix(m: re.Match) -> str:
            word = m.group(0)
            fixed = self.index.lexical.correct(word, self.index.english_words, self.hidden())
            return word if fixed.lower() in _base_forms(word) else fixed
        return re.sub(r"[A-Za-z]+", fix, text)

    def _unsaid(self, judged, concepts: list[Concept]) -> list[Concept]:
        """The missing concepts that are the asker's words only: ordinary English words (WordNet)
        that the texts never use, nor any glossary equivalent. Empty unless every missing concept is
        such a word and the concepts the texts do use are at least two and more numerous."""
        unsaid = []
        for c in judged.missing:
            plain = key_concepts(c.label, self._is_common)  # stem and glossary, no WordNet equivalents
            stems = tokenize(c.label)
            if len(plain) != 1 or len(stems) != 1 or not thesaurus.is_english(stems[0]) or self._in_texts(plain[0]):
                return []
            unsaid.append(c)
        known = len(concepts) - len(unsaid)
        return unsaid if unsaid and known >= 2 and len(unsaid) < known else []

    def _in_texts(self, concept: Concept) -> bool:
        """Does any text of the corpus use the concept (any of its spellings or equivalents)?"""
        return any(all(any(self._df(v) for v in _spellings(s)) for s in alt) for alt in concept.alternatives)

    def _df(self, stem: str) -> int:
        """Chunks using the stem, among the documents this viewer may see."""
        return self.index.lexical.stem_frequency(stem, self.hidden())

    def _is_rare(self, stem: str) -> bool:
        """A word in at most 2% of the chunks: an equivalent that common would be carried by chance."""
        return self._df(stem) <= 0.02 * max(1, len(self.index.chunks))

    def _is_common(self, stem: str) -> bool:
        """A word in over a quarter of all chunks frames a question; it cannot decide one."""
        return self._df(stem) > 0.25 * max(1, len(self.index.chunks))

    def _pervasive(self, doc_id: str, concept: Concept) -> bool:
        """Does the concept occur in over 40% of the document's chunks?"""
        chunks = self.index.chunks
        key = (doc_id, concept.alternatives)
        if self._pervasive_for is not chunks:
            self._pervasive_memo, self._pervasive_for = {}, chunks
        memo = self._pervasive_memo  # another thread may swap in a new memo meanwhile
        if key not in memo:
            ids = self.index.chunk_ids_where([doc_id])
            hits = sum(1 for cid in ids if cid in chunks and carried([concept], chunks[cid].text))
            memo[key] = bool(ids) and hits > 0.4 * len(ids)
        return memo[key]

    def _term_gap(self, concepts: list[Concept], absent: list[Concept], support: list[Passage],
                  subject_rule: bool, record: dict | None) -> bool:
        """Does a term no text uses make the question unanswerable, or is it the asker's own word
        for what a passage found carries in the texts' terms (weigh.py)?"""
        carried_sets = [{id(c) for c in carried(concepts, p.chunk.embed_text)} for p in support[:6]]
        sig = weigh.term_gap_signals(concepts, absent, carried_sets,
                                     max((p.dense or 0.0 for p in support[:6]), default=0.0), subject_rule)
        if record is not None:
            record.update(sig.as_dict())
        return weigh.term_gap_stands(sig)

    def not_addressed_reason(self, question: str, topic: str, support: list[Passage],
                             named: bool = False, record: dict | None = None) -> str | None:
        """Why the texts cannot answer this, decided from evidence, or None when they may.

        - facts treaty texts never record (ratifications, signatures, a state's accession);
        - a technical term the texts never use and the model does not know as an ordinary word;
        - a quantity (years, amounts) that none of the passages found states;
        - no passage found carries any key concept of the question."""
        if _body_acts(question):
            return ("the texts do not record what committees, conferences, review mechanisms or assemblies later "
                    "decided, found or concluded; those bodies' own reports and decisions do")
        m = _OUTSIDE_FACTS.search(question)
        if m:
            return ("treaty texts do not record what happened to them: who negotiated them, which states "
                    "signed, ratified or acceded to them and when, who holds their offices, or how states "
                    "have applied them; the negotiating records, the depositary's records and the treaty "
                    "bodies' reports do")
        other = self._other_instrument(question)
        if other:
            return other
        codes = self._absent_codes(question) if named else []
        if codes:  # "which standard (AES-256?) does Art. 25(3) require?": a standard or product no text names
            return "the texts never use the term" + ("s " if len(codes) > 1 else " ") + \
                ", ".join(f"\u201c{c}\u201d" for c in codes)
        topic = self.index.lexical.correct(topic, self.index.english_words, self.hidden())  # "serius crime"
        concepts = key_concepts(topic, self._is_common)
        # A word the texts never use is judged in the question's own words: in a follow-up, the
        # earlier turn's words (carried into `topic`) were already judged there, and a follow-up
        # with a subject of its own must not inherit their refusal.
        own = self.index.lexical.correct(strip_documents(question, [], self.index.documents),
                                         self.index.english_words, self.hidden())
        subject = None if named else _SUBJECT.search(own)  # a named provision is quoted, not judged by words
        if subject:  # "Does T regulate <drones>?": a subject the texts never name cannot be addressed
            wanted = key_concepts(subject.group("subject"), self._is_common, compounds=True)
            absent = [c for c in wanted if not self._in_texts(c)]
            # Half the subject or more, or a whole compound noun, not one modifier of it: "quickly
            # preserving stored data" is addressed although no text says "quickly"; "porn websites
            # verifying users' age" and "police use of facial recognition" are not.
            if absent and (2 * len(absent) >= len(wanted) or any(" " in c.label for c in absent)) \
                    and self._term_gap(wanted, absent, support, True, record):
                return f"the texts never use the term{'s' if len(absent) > 1 else ''} " + \
                    ", ".join(f"\u201c{c.label}\u201d" for c in absent)
        if not named:  # a technical term ("VPN", "cryptocurrency") that is neither in the texts nor a word
            english = self.index.english_words
            own_concepts = key_concepts(own, self._is_common)
            for c in own_concepts:
                words = [w for alt in c.alternatives for w in alt]
                if len(c.alternatives) == 1 and len(words) == 1 and c.label.isalpha() and len(c.label) >= 3 \
                        and not _ordinary_word(c.label, english) and not self._in_texts(c) \
                        and self._term_gap(own_concepts, [c], support, False, record):
                    return f"the texts never use the term \u201c{c.label}\u201d"
        texts = [p.chunk.embed_text for p in (support if named else support[:6])]  # with the article's title
        found = list(_QUANTITY.finditer(question))
        # "What fine in euros ...": the match that names a unit, if any, says what the number counts
        unit = next((m for m in found if m.group("unit") or m.group("unit_in")), found[0] if found else None)
        # What the number is a number of: the question less its quantity words ("how long", "at what
        # age") and, for a length of time, the verbs that only say it lasts ("last", "take").
        # The question's own words first: a follow-up ("how long can it be preserved?") is about its
        # own subject; the earlier turn's words only when it has none.
        subject: list[Concept] = []
        for text in (own, topic):
            main = _CONDITION.sub("", text)
            # the main clause's subject, or the condition's when the main clause has none ("If a
            # State objects to a reservation, how long does it have?")
            asked = _QUANTITY.sub(" ", main if key_concepts(_QUANTITY.sub(" ", main), self._is_common) else text)
            if unit and (unit.group("duration") or unit.group("timing")):
                asked = re.sub(r"\b(?:last|lasts|lasting|take|takes|remain|remains|stay|stays)\b", " ", asked,
                               flags=re.I)
            subject = [c for c in key_concepts(asked, self._is_common) if not _QUANTITY.search(f"how many {c.label}")]
            if subject:
                break
        if unit and not subject:  # "what's the age of sexual consent?": the subject is inside the quantity words
            subject = [c for c in key_concepts(unit.group(0), self._is_common)
                       if c.label.lower() not in ("age", "maximum", "minimum", "max", "min", "term", "sentence",
                                                  "period", "long", "time", "limit", "limits", "deadline", "deadlines")]
        unit_name = _quantity_unit(unit, question) if unit else None

        def states_it(t: str) -> bool:  # the passage is about the subject (all its concepts; for an age or
            # a length of time, all but one of three or more: "recruited into the armed forces" speaks
            # of "persons", not "children"), and one of its sentences that speaks of the subject states
            # the number ("the term 'minor' ... under 18 years of age")
            need = len(subject) - (1 if len(subject) >= 3 and unit_name in ("age", "duration") else 0)
            in_sentence = 1
            if unit_name == "timing":
                # a time limit is said in the texts' own words ("within three months after the receipt
                # of the communication, the receiving State shall ..."): half the subject, in the
                # very sentence that sets it
                need = in_sentence = (len(subject) + 1) // 2
            return len(carried(subject, t)) >= need and any(
                _stated_quantity(s, unit_name) and (not subject or len(carried(subject, s)) >= in_sentence)
                for _, _, s in sentence_spans(t, 0, len(t)))

        if unit and not any(states_it(t) for t in texts):
            if unit_name in ("age", "duration", "timing", "percent"):
                return f"none of the provisions found sets {_unit_name(unit_name)}"
            return (f"none of the provisions found sets a number of {_unit_name(unit_name)}" if unit_name
                    else "none of the provisions found sets an amount")
        if not named and concepts and texts and not any(carried(concepts, t) for t in texts):
            return f"no provision found mentions {display(concepts)}"
        return None if named else self._whole_document_gap(question, own, support)

    def _whole_document_gap(self, question: str, own: str, support: list[Passage]) -> str | None:
        """ "Does the Budapest Convention give victims a right to compensation?": a yes/no question
        about one named document, no article named, is answered by a provision that carries its
        whole subject. When none of the passages found in that document carries the key concepts
        together (equivalents counted), the document does not address it; a provision that shares a
        word with it is not an answer."""
        if not _YES_NO.match(question) or re.search(_ARTICLE, question, re.I):
            return None
        docs = {m.doc_id for m in find_documents(question, self.index.documents)}
        if len(docs) != 1:
            return None
        subject = _SUBJECT.search(own)
        wanted = key_concepts(_QUANTITY.sub(" ", subject.group("subject") if subject else own), self._is_common,
                              ordinary=True, is_rare=self._is_rare)  # "is there a time limit": not its subject
        doc_id = next(iter(docs))
        texts = [p.chunk.embed_text for p in support if p.chunk.doc_id == doc_id]
        # Every concept, or all but one (of two, or of three or more): "suspend rights in a national
        # emergency" is Art. 4 of the ICCPR although it says "derogate"; a passage that shares one
        # word of "victims' compensation for cybercrime" is not an answer.
        best = max(len(carried(wanted, t)) for t in texts) if texts else 0
        if len(wanted) < 2 or not texts or best == len(wanted) or (len(wanted) >= 3 and best == len(wanted) - 1) \
                or (len(wanted) == 2 and best == 1):  # two concepts: one may be the asker's word for the other's
            return None
        return (f"none of the provisions found in {self._doc_name(doc_id)} carries {display(wanted)} together; "
                f"the closest share only some of it")

    def _related(self, passages: list[Passage], used: set[str]) -> list[Citation]:
        out: list[Citation] = []
        seen = set(used)
        for p in passages:
            pid = p.chunk.provision_id
            if pid in seen:
                continue
            prov = self.index.provision(pid)
            if prov is None:
                continue
            seen.add(pid)
            cit = self._citation(prov, p)
            cit.score = p.score
            out.append(cit)
            if len(out) >= 5:
                break
        return out

    def _citation(self, prov: Provision, passage: Passage) -> Citation:
        meta = self.index.documents.get(prov.doc_id)
        return Citation(
            provision_id=prov.id, doc_id=prov.doc_id, article=prov.article, paragraph=prov.paragraph,
            label=prov.label, doc_title=meta.title if meta else "",
            source_type=meta.doc_type if meta else DocType.treaty, text=clean_text(prov.text),
        )

    def _voice(self, s: Sentence) -> str:
        """A commentary's words are presented as its author's view, never as treaty text."""
        meta = self.index.documents.get(s.provision.doc_id)
        if meta and meta.doc_type != DocType.treaty:
            who = meta.publisher or meta.cite_name
            return f"{who} ({meta.doc_type.value}) states: "
        return ""

    def _label(self, p: Passage) -> str:
        prov = self.index.provision(p.target) if p.target else None
        return prov.label if prov else p.chunk.label

    def _doc_name(self, doc_id: str) -> str:
        meta = self.index.documents.get(doc_id)
        return meta.cite_name if meta else doc_id


def _join_labels(labels: list[str]) -> str:
    labels = list(dict.fromkeys(labels))
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]
