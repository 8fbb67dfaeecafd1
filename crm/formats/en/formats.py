# One date style and one date-time style for English readers, whichever format name a template asks
# for: "6 Dec 2026" is unambiguous on both sides of the Atlantic ("12/06/2026" is not).
DATE_FORMAT = SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
TIME_FORMAT = "H:i"  # one clock for the whole page: the date-times above are 24-hour too
