"""The one date style on pages: "5 Jan 2027" and "5 Jan 2027, 14:05" (24-hour clock).

Django always localizes, and its own English format module ("Jan. 5, 2027") wins over the
DATE_FORMAT settings; FORMAT_MODULE_PATH points here instead, and the settings import these
values so code that asks the settings gets the same answer. ISO dates stay in exports, CSV,
e-mails and in <time datetime="...">; form inputs keep their own input formats."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday
