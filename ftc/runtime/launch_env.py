"""What `ftc launch` and the runtime tell each other through the environment.

launch.sh is also run by hand (or by sbatch); then neither variable is set and
the runtime prints its own summary.
"""

RUN_INFO_ENV = "FTC_RUN_INFO_OUT"  # file the main process writes its run directory into
QUIET_SUMMARY_ENV = "FTC_QUIET_SUMMARY"  # set: the runtime leaves printing the summary to ftc
VERBOSE_ENV = "FTC_VERBOSE"  # set: keep the libraries' own progress bars and warnings
