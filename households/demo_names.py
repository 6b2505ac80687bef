"""Places, names, word lists and weights the demo-data generator draws from (villages and people invented)."""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE = ("530000000000", "云南省")
PREFECTURE = ("532300000000", "楚雄彝族自治州")
COUNTY = ("532326000000", "大姚县")
ID_AREA_CODE = "532326"


@dataclass(frozen=True)
class TownshipSpec:
    """A real 大姚县 township, plausible villages, and how its farm income splits."""

    code: str
    name: str
    villages: tuple[str, ...]
    # Relative weight of planting, breeding, forestry/fruit and other operating income.
    industry_weights: tuple[float, float, float, float]

    def village_code(self, index: int) -> str:
        """The index-th village's code: township prefix, then 201, 202, ..."""
        return f"{self.code[:9]}{201 + index:03d}"


TOWNSHIPS = (
    TownshipSpec("532326100000", "金碧镇", ("大村村", "石丫村", "妙峰村", "龙泉村", "干龙潭村"), (5, 3, 2, 1)),
    TownshipSpec("532326101000", "石羊镇", ("石羊村", "大中村", "岔河村", "小铺子村", "拉乍么村"), (6, 3, 1, 1)),
    TownshipSpec("532326103000", "龙街镇", ("龙街村", "大平地村", "新庄村", "白马厂村"), (5, 3, 3, 1)),
    TownshipSpec("532326104000", "赵家店镇", ("赵家店村", "中和村", "松子园村", "马家村", "团山村"), (5, 4, 2, 1)),
    TownshipSpec("532326106000", "桂花镇", ("桂花村", "永丰村", "新华村", "联合村"), (4, 4, 3, 1)),
    TownshipSpec("532326200000", "湾碧傣族傈僳族乡", ("湾碧村", "鲁么村", "大坝村", "田房村", "龙林村"), (2, 2, 7, 1)),
    TownshipSpec("532326201000", "铁锁乡", ("铁锁村", "麦地村", "迤资村", "凹嘎村"), (2, 5, 4, 1)),
)

# Common surnames in 大姚, Han and Yi, with rough weights.
SURNAMES = (
    ("李", 14),
    ("杨", 10),
    ("张", 9),
    ("王", 7),
    ("罗", 6),
    ("起", 4),
    ("普", 4),
    ("自", 3),
    ("鲁", 3),
    ("毕", 3),
    ("苏", 3),
    ("周", 3),
    ("赵", 4),
    ("陈", 4),
    ("刘", 4),
    ("何", 3),
    ("施", 2),
    ("字", 2),
    ("杞", 2),
    ("黄", 2),
    ("郭", 2),
    ("段", 2),
    ("马", 2),
    ("朱", 2),
    ("杜", 2),
    ("余", 1),
    ("胡", 1),
    ("谢", 1),
    ("鲍", 1),
    ("夏", 1),
    ("耿", 1),
)

# Given-name characters by sex and generation (born before 2000, or from 2000 on).
GIVEN_NAME_PARTS = {
    ("M", False): (
        "建国永文志德兴家明正学光树春海天云朝绍发开金有世应",
        "华明强军林平成荣福贵忠伟生才祥兵辉龙昌洪涛富顺清",
    ),
    ("F", False): ("秀桂丽玉春美金凤红兰芳小晓雪艳慧琼会树润", "英兰芬珍芳花梅琼萍娟丽燕霞艳敏仙莲香菊凤"),
    ("M", True): ("子浩宇俊梓雨天家嘉一泽明思博文", "轩然涵睿辰博航杰宸泽宇豪鑫阳诚"),
    ("F", True): ("雨欣梓诗思可紫佳若语梦馨心艺", "涵萱琪怡彤悦妍琳菲瑶婷雪蕊瑾"),
}

HELPER_UNITS = (
    "大姚县农业农村局",
    "大姚县乡村振兴局",
    "大姚县教育体育局",
    "大姚县卫生健康局",
    "大姚县人力资源和社会保障局",
    "大姚县林业和草原局",
    "大姚县住房和城乡建设局",
    "大姚县水务局",
    "大姚县财政局",
    "大姚县自然资源局",
    "楚雄州农业农村局",
    "大姚县人民医院",
)

PHONE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "183",
    "187",
    "188",
    "189",
    "199",
)

# Where members work, with a weight and a typical monthly wage (yuan).
WORK_PLACES = (
    ("大姚县城", 14, 2600),
    ("楚雄市", 12, 3000),
    ("昆明市", 16, 3600),
    ("大理市", 5, 3200),
    ("四川省攀枝花市", 6, 3800),
    ("广东省东莞市", 12, 4600),
    ("广东省深圳市", 6, 5200),
    ("浙江省宁波市", 10, 4800),
    ("浙江省义乌市", 5, 4600),
    ("江苏省苏州市", 6, 4800),
    ("福建省晋江市", 5, 4500),
    ("上海市", 3, 5400),
)

GROUP_NUMERALS = "一二三四五六七八九十"

# Household sizes and 脱贫年度 with their weights.
HOUSEHOLD_SIZES = {1: 7, 2: 14, 3: 21, 4: 25, 5: 17, 6: 10, 7: 6}
LIFTED_YEARS = {2014: 8, 2015: 10, 2016: 14, 2017: 16, 2018: 22, 2019: 18, 2020: 12}

# How often each risk type and measure (codes of migration 0003) appears on a monitoring case.
RISK_WEIGHTS = {
    "illness": 30,
    "disability": 12,
    "schooling": 10,
    "lack_of_labour": 12,
    "unstable_employment": 14,
    "industry_failure": 8,
    "natural_disaster": 5,
    "accident": 4,
    "housing": 2,
    "drinking_water": 1,
    "other": 2,
}
SUDDEN_RISKS = {"illness": 5, "accident": 3, "natural_disaster": 2}
MEASURE_WEIGHTS = {
    "industry": 25,
    "employment": 25,
    "finance": 8,
    "public_job": 10,
    "health": 14,
    "education": 8,
    "housing": 2,
    "water": 1,
    "social_security": 8,
    "social": 3,
    "other": 1,
}
# A measure that answers a risk comes first when that risk is present.
MEASURE_FOR_RISK = {
    "illness": "health",
    "disability": "social_security",
    "schooling": "education",
    "lack_of_labour": "public_job",
    "unstable_employment": "employment",
    "industry_failure": "industry",
    "housing": "housing",
    "drinking_water": "water",
}

RELOCATION_SITE = "大姚县城易地扶贫搬迁安置区"
