"""Synthetic participants for the demo and the tests: realistic, reproducible, never real.

The population is modelled on a Bradford-like city: who the mothers are (community), which
language the consent discussion was held in, and where they live are drawn from the tables
below, so a reviewer can read and adjust the mix without touching the logic. NHS numbers
come from the range PDS reserves for synthetic patients (9000000000-9999999999), so no
generated record can collide with, or be linked to, a real person.

Everything is drawn from one ``random.Random(seed)`` and Faker instances seeded from it:
the same seed gives the same people (with the same Faker version), whatever else the
process does with randomness.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import TextIO

import nhs_number
from faker import Faker

MIN_AGE, MAX_AGE = 16, 50
DUE_WITHIN_DAYS = 40 * 7

# ONS 2021 census ethnic group categories (England and Wales), as "group: category".
ASIAN, BLACK = "Asian, Asian British or Asian Welsh", "Black, Black British, Black Welsh"
MIXED, WHITE, OTHER = "Mixed or Multiple ethnic groups", "White", "Other ethnic group"
WHITE_BRITISH = f"{WHITE}: English, Welsh, Scottish, Northern Irish or British"
IRISH, TRAVELLER = f"{WHITE}: Irish", f"{WHITE}: Gypsy or Irish Traveller"
ROMA, OTHER_WHITE = f"{WHITE}: Roma", f"{WHITE}: Other White"
PAKISTANI, BANGLADESHI, INDIAN = f"{ASIAN}: Pakistani", f"{ASIAN}: Bangladeshi", f"{ASIAN}: Indian"
AFRICAN = f"{BLACK}, Caribbean or African: African"
CARIBBEAN = f"{BLACK}, Caribbean or African: Caribbean"
ARAB = f"{OTHER}: Arab"

# Curated Latin-script names, as staff type them, where Faker has no fitting locale: its
# ar_* and bn_BD locales write Arabic and Bengali script, and en_PK's female names are
# mostly men's names.
# Spelling variants are deliberate: linkage has to cope with Ayesha/Aisha, Hussain/Hussein.
PAKISTANI_NAMES = (
    "Aisha Ayesha Fatima Zainab Maryam Mariam Amina Sana Saima Nazia Rubina Shazia Samina "
    "Nadia Hina Iqra Mehwish Sadia Rukhsana Shabana Uzma Farzana Noreen Asma Bushra Kiran "
    "Sidra Anam Hafsa Khadija Rabia Tahira Nasreen Yasmin Zara Humaira Sumaira Aqsa Mahnoor",
    "Khan Hussain Hussein Ahmed Ahmad Ali Akhtar Iqbal Mahmood Mahmud Rashid Shah Bibi Begum "
    "Kauser Mirza Butt Chaudhry Aslam Bashir Hanif Javed Latif Malik Nawaz Qureshi Rehman "
    "Riaz Sadiq Saleem Shafiq Tariq Yousaf Zaman Anwar Arshad Ashraf Aziz Hameed Parveen",
)
BANGLADESHI_NAMES = (
    "Rahima Shirin Nasima Salma Rokeya Taslima Sharmin Rumana Farhana Nasrin Shapla Jesmin "
    "Sumaiya Tahmina Habiba Rehana Shamima Jannat Tanjila Sultana Morjina Marium Ruksana Lipi",
    "Begum Khatun Miah Uddin Rahman Islam Hoque Haque Chowdhury Choudhury Ahmed Ali Akter "
    "Khanom Bibi Hussain Karim Sarkar Alom Alam",
)
ARAB_NAMES = (
    "Fatima Noor Nour Layla Leila Rania Hala Amal Huda Reem Lina Dina Yasmin Salma Rasha "
    "Hanan Mona Sara Aya Asmaa Marwa Rawan Ghada Wafa Shaima",
    "Al-Hassan Al-Ahmad Haddad Khalil Mansour Saleh Hamdan Nasser Abdullah Ibrahim Youssef "
    "Othman Darwish Hamoud Al-Sayed Kassem Al-Obaidi Al-Jaber Farouk Hakim Mustafa Saeed "
    "Abbas Jaber",
)

# A name source is a Faker locale (Latin-script output) or a curated (given, family) pair.
NameSource = str | tuple[str, str]


@dataclass(frozen=True)
class Community:
    weight: float
    languages: dict[str, float]
    ethnicities: dict[str, float]
    names: NameSource


# Shares of mothers booking for antenatal care, and of consent discussions per language.
COMMUNITIES = (
    Community(40.0, {"en": 1}, {WHITE_BRITISH: 97, IRISH: 2, TRAVELLER: 1}, "en_GB"),
    Community(36.0, {"en": 72, "ur": 17, "pa": 11}, {PAKISTANI: 1}, PAKISTANI_NAMES),
    Community(3.0, {"en": 85, "pa": 15}, {INDIAN: 1}, "en_IN"),
    Community(2.0, {"en": 60, "bn": 40}, {BANGLADESHI: 1}, BANGLADESHI_NAMES),
    Community(3.5, {"en": 35, "pl": 65}, {OTHER_WHITE: 1}, "pl_PL"),
    Community(1.5, {"en": 30, "ro": 70}, {OTHER_WHITE: 80, ROMA: 20}, "ro_RO"),
    Community(2.0, {"en": 30, "sk": 70}, {ROMA: 70, OTHER_WHITE: 30}, "sk_SK"),
    Community(1.0, {"en": 35, "ar": 65}, {ARAB: 1}, ARAB_NAMES),
    Community(2.5, {"en": 1}, {AFRICAN: 1}, "en_NG"),
    Community(1.0, {"en": 1}, {CARIBBEAN: 1}, "en_GB"),
    Community(
        4.0,
        {"en": 1},
        {
            f"{MIXED}: White and Black Caribbean": 35,
            f"{MIXED}: White and Asian": 35,
            f"{MIXED}: White and Black African": 15,
            f"{MIXED}: Other Mixed or Multiple ethnic groups": 15,
        },
        "en_GB",
    ),
)
LANGUAGES = tuple(dict.fromkeys(lang for c in COMMUNITIES for lang in c.languages))

# Most non-English discussions use an interpreter; the rest are held by a midwife who
# speaks the language. A discussion held in English needs none.
INTERPRETER_SHARE = 0.8

# Bradford district postcode districts and their post towns.
POSTCODE_DISTRICTS = (
    *((f"BD{n}", "Bradford") for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15)),
    ("BD16", "Bingley"),
    ("BD17", "Shipley"),
    ("BD18", "Shipley"),
    ("BD20", "Keighley"),
    ("BD21", "Keighley"),
    ("BD22", "Keighley"),
    ("LS29", "Ilkley"),
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code
# A made-up IMD decile per district, roughly the real gradient (inner Bradford most
# deprived, Ilkley least), shifted by one either way by the inward code's sector digit.
DISTRICT_DECILES = {
    **{f"BD{n}": 1 for n in (1, 3, 5, 7, 8)},
    **{f"BD{n}": 2 for n in (2, 4, 6, 9)},
    **{f"BD{n}": 4 for n in (10, 12, 13, 14, 15)},
    **{code: 6 for code in ("BD16", "BD17", "BD18")},
    **{code: 3 for code in ("BD20", "BD21", "BD22")},
    "LS29": 9,
}

MATERNAL_AGE_MEAN, MATERNAL_AGE_SD = 30.0, 5.5


@dataclass(frozen=True, slots=True)
class SynthMother:
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str
    address: str
    language: str
    ethnicity: str
    due_date: date
    interpreter_used: bool


FIELDS = tuple(f.name for f in fields(SynthMother))


def mothers(seed: int, n: int, *, today: date | None = None) -> list[SynthMother]:
    """``n`` synthetic pregnant women; the same seed and day always give the same list."""
    return list(iter_mothers(seed, n, today=today))


def iter_mothers(seed: int, n: int, *, today: date | None = None) -> Iterator[SynthMother]:
    """The same people as ``mothers``, one at a time, for outputs too big to hold."""
    rng = random.Random(seed)
    today = today or date.today()
    fakers = _seeded_fakers(rng)
    weights = [c.weight for c in COMMUNITIES]
    taken: set[str] = set()
    for _ in range(n):
        community = rng.choices(COMMUNITIES, weights)[0]
        language = _pick(rng, community.languages)
        given, family = _name(rng, fakers, community.names)
        postcode, town = _postcode(rng)
        yield SynthMother(
            nhs_number=_nhs_number(rng, taken),
            given_name=given,
            family_name=family,
            date_of_birth=_date_of_birth(rng, today),
            postcode=postcode,
            address=f"{rng.randint(1, 250)} {fakers['en_GB'].street_name()}, {town}",
            language=language,
            ethnicity=_pick(rng, community.ethnicities),
            due_date=today + timedelta(days=rng.randint(1, DUE_WITHIN_DAYS)),
            interpreter_used=language != "en" and rng.random() < INTERPRETER_SHARE,
        )


def _seeded_fakers(rng: random.Random) -> dict[str, Faker]:
    locales = sorted({c.names for c in COMMUNITIES if isinstance(c.names, str)} | {"en_GB"})
    fakers = {}
    for locale in locales:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(rng.getrandbits(64))
    return fakers


def _pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), list(weighted.values()))[0]


def _name(rng: random.Random, fakers: dict[str, Faker], source: NameSource) -> tuple[str, str]:
    if isinstance(source, str):
        fake = fakers[source]
        return fake.first_name_female(), fake.last_name_female()
    given, family = source
    return rng.choice(given.split()), rng.choice(family.split())


def _postcode(rng: random.Random) -> tuple[str, str]:
    district, town = rng.choice(POSTCODE_DISTRICTS)
    inward = f"{rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    return f"{district} {inward}", town


def _nhs_number(rng: random.Random, taken: set[str]) -> str:
    """A valid, unused number from the synthetic range, never one digit repeated."""
    synthetic = nhs_number.REGION_SYNTHETIC.ranges[0]
    while True:
        body = str(rng.randint(synthetic.start // 10, synthetic.end // 10))
        check = nhs_number.calculate_checksum(body)
        number = f"{body}{check}"
        if check != 10 and len(set(number)) > 1 and number not in taken:
            taken.add(number)
            return number


def _date_of_birth(rng: random.Random, today: date) -> date:
    """A birthday giving an age in MIN_AGE..MAX_AGE today, clustered around 30."""
    youngest = _years_before(today, MIN_AGE)
    oldest = _years_before(today, MAX_AGE + 1) + timedelta(days=1)
    age_days = round(rng.gauss(MATERNAL_AGE_MEAN, MATERNAL_AGE_SD) * 365.25)
    return min(youngest, max(oldest, today - timedelta(days=age_days)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def imd_deciles() -> dict[str, int]:
    """A deprivation decile for every postcode the synthetic mothers and partner files can
    have: the demo's stand-in for the published IMD lookup."""
    return {
        f"{district} {sector}{first}{second}": min(10, max(1, base + sector % 3 - 1))
        for district, base in DISTRICT_DECILES.items()
        for sector in range(10)
        for first in INWARD_LETTERS
        for second in INWARD_LETTERS
    }


def write_imd_lookup(f: TextIO) -> None:
    """The synthetic lookup as the CSV ``cohort governance imd load`` reads."""
    f.write("postcode,imd_decile\n")
    f.writelines(f"{code},{decile}\n" for code, decile in imd_deciles().items())
