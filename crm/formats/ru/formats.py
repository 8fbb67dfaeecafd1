# One date style and one date-time style for Russian readers, whichever format name a template asks for.
DATE_FORMAT = SHORT_DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "d.m.Y, H:i"
# Day and month without the year ("7 декабря" / "7 грудня"): the genitive month, never "7 Дек".
MONTH_DAY_FORMAT = "j E"
