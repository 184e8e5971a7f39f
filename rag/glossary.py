"""A small legal glossary: groups of words and phrases that name the same concept.

Written from general criminal-law, human-rights and treaty-drafting vocabulary (the way a
legal glossary or a treaty index groups terms), not from the evaluation questions. Two
uses, one source:

- retrieval expansion: a lay word in a question adds the treaty terms of its group;
- verdicts: a key concept of a question is carried by a sentence when the sentence
  contains any member of the concept's group (compared as stems, phrases in order).

Entries are plain phrases; each group lists the everyday words first and the treaty
wording after. A word may sit in several groups.
"""
from __future__ import annotations

GROUPS: list[tuple[str, ...]] = [
    # people
    ("child", "children", "kid", "kids", "minor", "minors", "juvenile", "teenager", "teenagers", "adolescent"),
    ("victim", "victims", "injured party", "survivor", "survivors"),
    ("witness", "witnesses", "testimony", "testify"),
    ("official", "officials", "civil servant", "public official", "public officials", "officer"),
    ("company", "companies", "corporation", "corporations", "business", "businesses", "firm",
     "legal person", "legal persons"),
    ("judge", "judges", "court", "courts", "tribunal", "tribunals", "judicial authority"),
    ("police", "law enforcement", "competent authorities", "law enforcement authorities"),
    ("journalist", "journalists", "press", "media"),
    ("service provider", "internet provider", "isp", "platform", "platforms"),
    ("parent", "parents", "legal guardian", "guardians", "family"),
    # protection and help
    ("rehabilitation", "recovery", "reintegration", "social reintegration"),
    ("compensation", "reparation", "restitution", "damages", "redress"),
    ("assistance", "assist", "support", "help"),
    ("protection", "protect", "safeguard", "safeguards"),
    ("relocation", "relocate", "new identity", "change of identity"),
    ("privacy", "private life", "correspondence", "personal data"),
    ("expression", "speech", "free speech", "opinion", "opinions"),
    ("assembly", "protest", "demonstration", "peaceful assembly"),
    ("association", "trade union", "trade unions"),
    ("education", "school", "schools"),
    ("health", "medical", "health care"),
    ("hearing", "fair trial", "public hearing"),
    ("lawyer", "counsel", "legal aid"),
    ("interpreter", "translation", "language he understands"),
    # offences
    ("hacking", "hack", "illegal access", "unauthorised access", "access without right"),
    ("interception", "intercept", "wiretapping", "eavesdropping", "real-time collection"),
    ("malware", "virus", "ransomware", "system interference", "data interference", "misuse of devices"),
    ("fraud", "scam", "scams", "deception", "computer-related fraud"),
    ("forgery", "forge", "fake", "counterfeit", "computer-related forgery"),
    ("bribe", "bribery", "kickback", "undue advantage"),
    ("embezzlement", "misappropriation", "diversion of property"),
    ("laundering", "money laundering", "proceeds of crime"),
    ("child pornography", "child sexual abuse material", "child abuse images", "csam"),
    ("grooming", "solicitation of children", "solicitation"),
    ("trafficking", "trafficking in persons", "smuggling"),
    ("racism", "racist", "xenophobic", "xenophobia", "hate speech"),
    ("genocide", "crimes against humanity"),
    ("torture", "cruel, inhuman or degrading treatment"),
    ("copyright", "piracy", "intellectual property", "related rights"),
    ("attempt", "attempted"),
    ("crime", "crimes", "offence", "offences", "criminal offence", "criminal offences", "offense"),
    ("aiding", "abetting", "complicity", "accomplice"),
    # procedure and cooperation
    ("e-mail", "email", "e-mails", "emails", "message", "messages", "communications", "content data",
     "computer data"),
    ("preservation", "preserve", "data retention", "retain"),
    ("search", "seizure", "seize", "search and seizure"),
    ("confiscation", "confiscate", "forfeiture", "seizure of proceeds"),
    ("freezing", "freeze", "frozen"),
    ("extradition", "extradite", "surrender", "hand over"),
    ("mutual legal assistance", "mutual assistance", "request for assistance", "legal assistance"),
    ("cooperation", "co-operation", "international co-operation"),
    ("jurisdiction", "territory", "territorial"),
    ("statute of limitations", "limitation period"),
    ("penalty", "penalties", "punishment", "punish", "sanction", "sanctions"),
    ("imprisonment", "prison", "jail", "deprivation of liberty", "detention", "custody"),
    ("death penalty", "capital punishment", "sentence of death"),
    ("fine", "fines", "monetary sanctions", "pecuniary"),
    ("whistleblower", "whistle-blower", "reporting persons", "report in good faith"),
    ("evidence", "electronic evidence", "proof"),
    ("subscriber information", "account holder", "subscriber"),
    ("traffic data", "metadata"),
    ("encryption", "encrypted", "decryption"),
    ("training", "awareness", "awareness-raising"),
    ("asset recovery", "return of assets", "recovery of property"),
    ("illicit enrichment", "unexplained wealth"),
    ("complaint", "complaints", "communication from individuals", "petition"),
    ("hostilities", "armed conflict", "armed forces", "military", "soldier", "soldiers"),
    ("discrimination", "non-discrimination", "equality"),
    ("online", "internet", "information and communication technologies", "computer system", "computer systems"),
    ("live in", "lives in", "living in", "reside", "resides", "residence", "habitual residence", "resident"),
    ("country", "countries", "territory"),
    ("people", "person", "persons", "individual", "individuals"),
    ("private sector", "private sector entity", "private sector entities"),
]
