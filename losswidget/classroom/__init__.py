"""A class in one chart: students send their runs to a shared folder (:mod:`.send`), a teacher's view
follows the folder (:mod:`.folder`) and shows every run, the groups' run-to-run spread and the
sentence to read aloud (:mod:`.view`, :mod:`.chart`)."""
