"""Reference documents in the API's shapes: medal metadata, UGC assets, career track, calendars, translations."""

import json
from pathlib import Path

from loader.demo import catalog as cat
from loader.demo.medal_table import MEDALS

LOCALES = ("pt-BR", "zh-CN", "zh-TW", "de-DE", "fr-FR", "it-IT", "ja-JP", "ko-KR", "es-MX", "nl-NL", "pl-PL",
           "ru-RU", "es-ES")
_PSEUDO = str.maketrans("aceinorstuyACEINORSTUY", "àçëïñöŕšţüýÀÇËÏÑÖŔŠŢÜÝ")

UGC_BLOB = "https://blobs-infiniteugc.svc.halowaypoint.com"


def _pseudo(text: str, tail: str) -> str:
    return text.translate(_PSEUDO) + tail if text else ""


def localized(value: str, pseudo: bool = True, status: str = "Test") -> dict:
    """`{"status", "value", "translations"}` with the three pseudo-locales the career track carries."""
    translations = {"qps-ploc": _pseudo(value, " !!"), "qps-ploca": _pseudo(value, " !!"),
                    "qps-plocm": _pseudo(value, " !!")} if pseudo and value else {}
    return {"status": status, "value": value, "translations": translations}


def _files(kind: str, asset_id: str, version_id: str, paths: list[str]) -> dict:
    path = f"/ugcstorage/{kind}/{asset_id}/{version_id}/"
    return {
        "Prefix": UGC_BLOB + path,
        "FileRelativePaths": paths,
        "PrefixEndpoint": {
            "AuthorityId": "iUgcFiles", "Path": path, "QueryString": None, "RetryPolicyId": "linearretry",
            "TopicName": "", "AcknowledgementTypeId": 0, "AuthenticationLifetimeExtensionSupported": False,
            "ClearanceAware": False,
        },
    }


def _stats(seed: int, plays: bool = True) -> dict:
    return {
        "PlaysRecent": (seed * 7919) % 200000 if plays else 0,
        "PlaysAllTime": (seed * 104729) % 5000000 if plays else 0,
        "Favorites": (seed * 31) % 1500,
        "Likes": 0,
        "Bookmarks": 0,
        "ParentAssetCount": 1 + seed % 60,
        "AverageRating": round(3.0 + (seed % 1000) / 700, 4) if plays else 0.0,
        "NumberOfRatings": (seed * 13) % 900 if plays else 0,
    }


def _asset_core(kind: str, asset_id: str, version_id: str, name: str, description: str, paths: list[str],
                seed: int, inspection: int = 0) -> dict:
    return {
        "AssetId": asset_id,
        "VersionId": version_id,
        "PublicName": name,
        "Description": description,
        "Files": _files(kind, asset_id, version_id, paths),
        "Contributors": [],
        "AssetHome": 1,
        "AssetStats": _stats(seed),
        "InspectionResult": inspection,
        "CloneBehavior": 0,
        "Order": 0,
    }


IMAGES = ["images/hero.png", "images/screenshot1.png", "images/thumbnail.png"]


def map_doc(m: cat.MapDef, seed: int = 1) -> dict:
    doc = {
        "CustomData": {"NumOfObjectsOnMap": m.objects, "TagLevelId": -(abs(hash_int(m.level_id)) % 2**31),
                       "IsBaked": True, "HasNodeGraph": False},
        "Tags": ["343i"],
        "PrefabLinks": [],
    }
    slug = m.name.lower().replace(" ", "_")
    doc.update(_asset_core("map", m.asset_id, m.version_id, m.name, m.description,
                           [f"{slug}.mvar", *IMAGES[:2], "images/thumbnail.png", "map.mvar"], seed, 50))
    return doc


def hash_int(text: str) -> int:
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 2**32
    return value


def variant_doc(v: cat.VariantDef, seed: int = 1) -> dict:
    engine_id = str(cat.uuid.uuid5(cat.NAMESPACE, f"engine:{v.engine_name}"))
    engine_version = str(cat.uuid.uuid5(cat.NAMESPACE, f"engine-version:{v.engine_name}"))
    engine = _asset_core("enginegamevariant", engine_id, engine_version, v.engine_name, "", [], seed + 3, 50)
    engine["AssetStats"] = _stats(seed + 3, plays=False)
    doc = {"CustomData": {"KeyValues": {}}, "Tags": list(v.tags), "EngineGameVariantLink": engine}
    doc.update(_asset_core("ugcgamevariant", v.asset_id, v.version_id, v.public_name, v.description, IMAGES, seed))
    return doc


def _link(kind: str, asset_id: str, version_id: str, name: str, description: str, seed: int, inspection: int) -> dict:
    return _asset_core(kind, asset_id, version_id, name, description, IMAGES, seed, inspection)


def pair_doc(p: cat.PairDef, seed: int = 1) -> dict:
    doc = {
        "CustomData": {},
        "Tags": [],
        "MapLink": _link("map", p.map.asset_id, p.map.version_id, p.map.name, p.map.description, seed + 1, 50),
        "UgcGameVariantLink": _link("ugcgamevariant", p.variant.asset_id, p.variant.version_id,
                                    p.variant.public_name, p.variant.description, seed + 2, 0),
    }
    doc.update(_asset_core("mapmodepair", p.asset_id, p.version_id, p.public_name, "", [], seed))
    return doc


def playlist_doc(pl: cat.PlaylistDef, seed: int = 1) -> dict:
    teams = max(pl.teams, 1)
    size = pl.team_size if pl.teams else pl.team_size + 2
    entries = [{"MapModePairAssetId": p.asset_id, "Metadata": {"Weight": float(1 + (i * 37) % 90)}}
               for i, p in enumerate(pl.pairs)]
    rotation = []
    for i, p in enumerate(pl.pairs):
        entry = {"Metadata": {"Weight": entries[i]["Metadata"]["Weight"]}}
        entry.update(_asset_core("mapmodepair", p.asset_id, p.version_id, p.public_name, "", [], seed + i))
        rotation.append(entry)
    doc = {
        "CustomData": {
            "PlaylistEntries": entries,
            "Strategy": 0,
            "MinTeams": teams, "MinTeamSize": size, "MaxTeams": teams, "MaxTeamSize": size,
            "MaxTeamImbalance": 0 if pl.ranked else 1,
            "MaxSplitscreenPlayersAllowed": 4,
            "AllowFriendJoinInProgress": not pl.ranked,
            "AllowMatchmakingJoinInProgress": not pl.ranked,
            "AllowBotJoinInProgress": pl.bots_per_team > 0,
            "ExitExperienceDurationSec": 30,
            "FireteamLeaderKickAllowed": False,
            "DisableMidgameChat": False,
            "AllowedDeviceInputs": [0] if pl.ranked else [0, 1],
            "BotDifficulty": 2 if pl.bots_per_team else 0,
            "MinFireteamSize": 1,
            "MaxFireteamSize": min(size, 4 if pl.ranked else 8),
        },
        "Tags": [],
        "RotationEntries": rotation,
    }
    doc.update(_asset_core("playlist", pl.asset_id, pl.version_id, pl.name, pl.description, IMAGES, seed))
    doc["AssetStats"] = _stats(seed, plays=False)
    return doc


def medal_metadata_doc() -> dict:
    medals = []
    for name_id, en, fr, desc_en, desc_fr, sprite, weight, difficulty, type_index, score in MEDALS:
        name_tr = {loc: (fr if loc == "fr-FR" else en) for loc in LOCALES}
        desc_tr = {loc: (desc_fr if loc == "fr-FR" else desc_en) for loc in LOCALES}
        medals.append({
            "name": {"value": en, "translations": name_tr},
            "description": {"value": desc_en, "translations": desc_tr},
            "spriteIndex": sprite, "sortingWeight": weight, "difficultyIndex": difficulty,
            "typeIndex": type_index, "personalScore": score, "nameId": name_id,
        })
    return {
        "difficulties": ["normal", "heroic", "legendary", "mythic"],
        "types": ["spree", "mode", "multikill", "proficiency", "skill", "style"],
        "sprites": {
            "small": {"path": "medals/images/medal_sheet_sm.png", "columns": 16, "size": 72},
            "medium": {"path": "medals/images/medal_sheet_med.png", "columns": 16, "size": 128},
            "extra-large": {"path": "medals/images/medal_sheet_xl.png", "columns": 16, "size": 256},
        },
        "medals": medals,
    }


_ROMAN = {1: "I", 2: "II", 3: "III"}


def career_track_doc() -> dict:
    ranks = []
    for r in cat.CAREER_RANKS:
        if r.tier:
            stem = f"{r.rank}_{r.title.replace(' ', '_')}_{r.tier}_{_ROMAN[r.grade]}"
        else:
            stem = f"{r.rank}_{r.title}"
        free = {"InventoryRewards": [], "CurrencyRewards": []}
        if r.grade == 3 or r.rank == 272:
            tag = f"{hash_int(stem):08x}"
            free["InventoryRewards"] = [
                {"InventoryItemPath": f"inventory/spartan/emblems/104-001-career-rank-{r.rank}-{tag}.json",
                 "Amount": 1, "Type": "SpartanEmblem"},
                {"InventoryItemPath": f"inventory/armor/emblems/013-001-{tag}.json", "Amount": 1,
                 "Type": "ArmorEmblem"},
            ]
        ranks.append({
            "Rank": r.rank,
            "FreeRewards": free,
            "PaidRewards": {"InventoryRewards": [], "CurrencyRewards": []},
            "XpRequiredForRank": r.xp,
            "RankTitle": localized(r.title),
            "RankSubTitle": localized(r.tier),
            "RankTier": localized(str(r.grade) if r.tier else ""),
            "RankIcon": f"career_rank/ProgressWidget/{stem}.png",
            "RankLargeIcon": f"career_rank/CelebrationMoment/{stem}.png",
            "RankAdornmentIcon": f"career_rank/NameplateAdornment/{stem}.png" if r.tier else "",
            "TierType": r.tier_type,
            "RankGrade": r.grade,
        })
    return {
        "TrackId": "careerRank1",
        "Ranks": ranks,
        "Name": localized("Career Rank"),
        "Description": localized("Earn Personal Score to Advance Career Rank."),
        "OperationNumber": 1,
        "DateRange": {"status": "Test", "value": "",
                      "translations": {"es-es": "Primero de enero de 2020 - 15 de octubre de 2030"}},
        "IsRitual": False,
        "SummaryImagePath": "",
        "WeekNumber": None,
        "XpPerRank": 1000,
    }


def season_calendar_doc() -> dict:
    return {
        "Seasons": [{"CsrSeasonFilePath": csr, "OperationTrackPath": op, "SeasonMetadata": meta,
                     "StartDate": {"ISO8601Date": start}, "EndDate": {"ISO8601Date": end}}
                    for csr, op, meta, start, end in cat.SEASONS],
        "Events": [{"RewardTrackPath": path, "StartDate": {"ISO8601Date": start}, "EndDate": {"ISO8601Date": end}}
                   for path, start, end in cat.EVENTS],
        "CareerRank": {"RewardTrackPath": "RewardTracks/CareerRanks/careerrank1.json"},
    }


def csr_calendar_doc() -> dict:
    return {"Seasons": [{"CsrSeasonFilePath": path, "StartDate": {"ISO8601Date": start},
                         "EndDate": {"ISO8601Date": end}} for path, start, end in cat.CSR_SEASONS]}


def translations_doc() -> dict:
    modes = [{"en": p.public_name, "fr": f"{cat.CATEGORY_FR.get(p.category, 'Autres')} : "
                                        f"{cat.MODE_NAMES[p.variant.category][1]}", "category": p.category}
             for p in sorted(cat.ALL_PAIRS, key=lambda p: p.public_name)]
    return {
        "playlists": [{"en": pl.name, "fr": pl.name_fr, "uuid": pl.asset_id}
                      for pl in sorted(cat.PLAYLISTS.values(), key=lambda p: p.name)],
        "modes": modes,
        "categories": dict(sorted(cat.CATEGORY_FR.items())),
    }


def medal_names_doc(lang: str) -> dict:
    index = 1 if lang == "en" else 2
    return {str(row[0]): row[index] for row in sorted(cat.ALL_MEDAL_NAMES, key=lambda r: str(r[0]))}


def reference_documents() -> list[tuple[str, dict]]:
    """(file name, document) of every reference document, in a stable order."""
    docs: list[tuple[str, dict]] = [
        ("medal_metadata.json", medal_metadata_doc()),
        ("career_reward_track.json", career_track_doc()),
        ("season_calendar.json", season_calendar_doc()),
        ("csr_season_calendar.json", csr_calendar_doc()),
        ("Playlist_modes_translations.json", translations_doc()),
        ("medals_en.json", medal_names_doc("en")),
        ("medals_fr.json", medal_names_doc("fr")),
    ]
    for i, m in enumerate(cat.MAPS.values()):
        docs.append((f"map_{m.asset_id}.json", map_doc(m, i + 11)))
    for i, v in enumerate(cat.VARIANTS.values()):
        docs.append((f"game_variant_{v.asset_id}.json", variant_doc(v, i + 101)))
    for i, p in enumerate(cat.ALL_PAIRS):
        docs.append((f"map_mode_pair_{p.asset_id}.json", pair_doc(p, i + 1001)))
    for i, pl in enumerate(cat.PLAYLISTS.values()):
        docs.append((f"playlist_{pl.asset_id}.json", playlist_doc(pl, i + 5001)))
    return docs


def write_reference(ref_dir: Path) -> list[Path]:
    ref_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in reference_documents():
        path = ref_dir / name
        path.write_bytes(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        written.append(path)
    return written
