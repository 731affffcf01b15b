# fish completion for oai, from `oai completion show fish`; do not edit.
# The candidates come from oai itself on every TAB, so they follow the
# installed version: commands, flags, enum values and profile names.

function __oai_complete
    set -lx _OAI_COMPLETE complete_fish
    set -lx _OAI_COMPLETE_LINE (commandline -cp | string collect)
    set -l candidates (oai </dev/null 2>/dev/null)
    if set -q candidates[1]
        printf '%s\n' $candidates
    else
        __fish_complete_path (commandline -ct)
    end
end

complete -c oai -f -a '(__oai_complete)'
