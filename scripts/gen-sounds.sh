#!/usr/bin/env bash
# Regenerate the shipped prompts: sounds/{zh,en}/*.wav, 8 kHz mono 16-bit PCM.
# Needs espeak-ng (voices: cmn-latn-pinyin, en) and sox.
#
# Chinese uses the voice cmn-latn-pinyin, not cmn: espeak-ng turns each character into pinyin with a tone number
# (三 -> san1), and the `cmn` voice ("latin as English", espeak-ng 1.51) then reads that pinyin as English, tone
# number included ("san one"; espeak-ng issues #1028, #1044). cmn-latn-pinyin reads it as Mandarin. Hotline
# numbers are written digit by digit the way they are said on the phone (幺二三四五 / "1 2 3 4 5"), not as
# quantities (一万二千…).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "gen-sounds: espeak-ng missing (scripts/install-deps.sh)" >&2; exit 1; }
command -v sox >/dev/null || { echo "gen-sounds: sox missing (scripts/install-deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

zh=cmn-latn-pinyin

# Refuse a Chinese text espeak-ng would partly read as English (a character missing from its dictionary).
check_voice() { # VOICE TEXT
    if [ "$1" = "$zh" ] && espeak-ng -v "$1" -x -q "$2" | grep -q '(en)'; then
        echo "gen-sounds: espeak-ng would read part of \"$2\" as English" >&2
        exit 1
    fi
}

# speak VOICE OUT TEXT: espeak-ng -> 8 kHz mono 16-bit, normalised, 150 ms of silence either side.
speak() {
    local voice=$1 out=$2 text=$3
    check_voice "$voice" "$text"
    espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out" \
        highpass 100 norm -3 pad 0.15 0.15
}

mkdir -p sounds/zh sounds/en

speak "$zh" sounds/zh/welcome.wav "您好，欢迎致电幺二三四五政务服务便民热线，正在为您转接人工服务，请稍候。"
speak "$zh" sounds/zh/status_available.wav "已示闲。"
speak "$zh" sounds/zh/status_break.wav "已示忙。"
speak "$zh" sounds/zh/status_logged_out.wav "已签出。"
speak "$zh" sounds/zh/invalid_code.wav "您拨打的功能码无效。"
speak "$zh" sounds/zh/goodbye.wav "感谢您的来电，再见。"

speak en sounds/en/welcome.wav "Welcome to the 1 2 3 4 5 citizen service hotline. Connecting you to an agent, please hold."
speak en sounds/en/status_available.wav "You are now available."
speak en sounds/en/status_break.wav "You are on break."
speak en sounds/en/status_logged_out.wav "You are logged out."
speak en sounds/en/invalid_code.wav "That feature code is not valid."
speak en sounds/en/goodbye.wav "Thank you for calling. Goodbye."

# Music on hold: a soft I-vi-IV-V progression (C, Am, F, G), 6 s per chord, 24 s in total.
# Each chord: root, third, fifth (sines) plus a quiet octave-up shimmer, slow tremolo, gentle fades,
# so the loop point (silence-ish) is smooth.
chord() { # out dur f1 f2 f3
    local out=$1 d=$2
    sox -n -r 8000 -c 1 -b 16 "$tmp/a.wav" synth "$d" sine "$3" fade q 0.8 "$d" 1.2
    sox -n -r 8000 -c 1 -b 16 "$tmp/b.wav" synth "$d" sine "$4" fade q 1.2 "$d" 1.2
    sox -n -r 8000 -c 1 -b 16 "$tmp/c.wav" synth "$d" sine "$5" fade q 1.6 "$d" 1.2
    sox -n -r 8000 -c 1 -b 16 "$tmp/d.wav" synth "$d" sine "$(awk "BEGIN{print $3*2}")" fade q 2.0 "$d" 1.5 vol 0.3
    sox -m "$tmp/a.wav" "$tmp/b.wav" "$tmp/c.wav" "$tmp/d.wav" -r 8000 -c 1 -b 16 "$out" tremolo 0.5 20
}
chord "$tmp/c1.wav" 6 261.63 329.63 392.00   # C
chord "$tmp/c2.wav" 6 220.00 261.63 329.63   # Am
chord "$tmp/c3.wav" 6 174.61 220.00 261.63   # F
chord "$tmp/c4.wav" 6 196.00 246.94 293.66   # G
sox "$tmp/c1.wav" "$tmp/c2.wav" "$tmp/c3.wav" "$tmp/c4.wav" -r 8000 -c 1 -b 16 -e signed-integer \
    "$tmp/moh.wav" norm -8 fade t 0.5 0 0.5
cp "$tmp/moh.wav" sounds/zh/moh.wav
cp "$tmp/moh.wav" sounds/en/moh.wav

for f in sounds/zh/*.wav sounds/en/*.wav; do
    printf '%-32s %6.2fs\n' "$f" "$(soxi -D "$f")"
done

# ---------------------------------------------------------------------------------------------
# IVR prompts (crates/hotline-ivr): spoken numbers, queue position, estimated wait, elderly line.
# Names match hotline_ivr::announce. This section only creates files that are missing, so
# re-running never rewrites a committed prompt; delete a file to regenerate it.
# ---------------------------------------------------------------------------------------------
# Unlike speak(), leading/trailing silence is trimmed and the padding kept short: these prompts
# are concatenated ("一万二千…"), and espeak's silences would make a number crawl.
speak_new() { # VOICE OUT TEXT
    [ -e "$2" ] && return 0
    check_voice "$1" "$3"
    espeak-ng -v "$1" -s 150 -w "$tmp/raw.wav" "$3"
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$2" \
        highpass 100 silence 1 0.02 1% reverse silence 1 0.02 1% reverse norm -3 pad 0.04 0.06
    printf '%-32s %6.2fs (new)\n' "$2" "$(soxi -D "$2")"
}

zh_digits=(零 一 二 三 四 五 六 七 八 九)
for i in "${!zh_digits[@]}"; do
    speak_new "$zh" "sounds/zh/num-$i.wav" "${zh_digits[$i]}"
done
speak_new "$zh" sounds/zh/num-10.wav "十"
speak_new "$zh" sounds/zh/num-hundred.wav "百"
speak_new "$zh" sounds/zh/num-thousand.wav "千"
speak_new "$zh" sounds/zh/num-ten-thousand.wav "万"
speak_new "$zh" sounds/zh/num-hundred-million.wav "亿"
speak_new "$zh" sounds/zh/queue-position-before.wav "您当前排在第"
speak_new "$zh" sounds/zh/queue-position-after.wav "位"
speak_new "$zh" sounds/zh/wait-before.wav "预计等待"
speak_new "$zh" sounds/zh/wait-minutes.wav "分钟"
speak_new "$zh" sounds/zh/wait-minute.wav "分钟"
speak_new "$zh" sounds/zh/wait-less-than-minute.wav "预计等待时间不到一分钟"
speak_new "$zh" sounds/zh/welcome-elderly.wav "您好，欢迎致电幺二三四九养老服务热线。"
speak_new "$zh" sounds/zh/elderly-menu.wav "老年人服务请按1，其他政务服务请按2，重听请按9。"

en_words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen)
for i in "${!en_words[@]}"; do
    speak_new en "sounds/en/num-$i.wav" "${en_words[$i]}"
done
en_tens=([20]=twenty [30]=thirty [40]=forty [50]=fifty [60]=sixty [70]=seventy [80]=eighty [90]=ninety)
for i in "${!en_tens[@]}"; do
    speak_new en "sounds/en/num-$i.wav" "${en_tens[$i]}"
done
speak_new en sounds/en/num-hundred.wav "hundred"
speak_new en sounds/en/num-thousand.wav "thousand"
speak_new en sounds/en/num-million.wav "million"
speak_new en sounds/en/num-billion.wav "billion"
speak_new en sounds/en/queue-position-before.wav "You are number"
speak_new en sounds/en/queue-position-after.wav "in the queue."
speak_new en sounds/en/wait-before.wav "Your estimated wait is"
speak_new en sounds/en/wait-minutes.wav "minutes."
speak_new en sounds/en/wait-minute.wav "minute."
speak_new en sounds/en/wait-less-than-minute.wav "Your estimated wait is less than one minute."
speak_new en sounds/en/welcome-elderly.wav "Welcome to the 1 2 3 4 9 elderly care hotline."
speak_new en sounds/en/elderly-menu.wav \
    "For elderly care services, press 1. For other citizen services, press 2. To hear these options again, press 9."

# ---------------------------------------------------------------------------------------------
# Issue 3: sub-line greetings and menus named by config/hotline.toml, and prompts the switch plays
# while a caller waits (call-back offer, max wait, transfer). Same rules as the IVR section above:
# only missing files are created. Keep these short: a citizen waits through every second of them.
# ---------------------------------------------------------------------------------------------
speak_new "$zh" sounds/zh/welcome-housekeeping.wav "您好，这里是幺二三四三家政服务热线，请稍候。"
speak_new "$zh" sounds/zh/welcome-power.wav "您好，欢迎致电幺二三九八供电服务热线。"
speak_new "$zh" sounds/zh/power-menu.wav "停电报修请按1，其他用电业务请按2，重听请按9。"
speak_new "$zh" sounds/zh/welcome-psychology.wav "你好，这里是幺二三五五学生心理援助热线，马上为你接通老师。"
speak_new "$zh" sounds/zh/callback-offer.wav "如需挂机等待回拨，请按1。"
speak_new "$zh" sounds/zh/callback-registered.wav "已为您登记回拨，轮到您时我们将给您回电。再见。"
speak_new "$zh" sounds/zh/callback-whisper.wav "回拨来电，号码"
speak_new "$zh" sounds/zh/max-wait.wav "很抱歉，当前等待时间较长。"
speak_new "$zh" sounds/zh/transfer-other-queue.wav "正在为您转接其他座席组，请稍候。"

speak_new en sounds/en/welcome-housekeeping.wav \
    "This is the 1 2 3 4 3 housekeeping service line. Please hold."
speak_new en sounds/en/welcome-power.wav "Welcome to the 1 2 3 9 8 power supply service line."
speak_new en sounds/en/power-menu.wav \
    "To report a power cut, press 1. For other electricity services, press 2. To hear these options again, press 9."
speak_new en sounds/en/welcome-psychology.wav \
    "Hello, this is the 1 2 3 5 5 student support line. Connecting you to a counsellor."
speak_new en sounds/en/callback-offer.wav "To hang up and be called back when it is your turn, press 1."
speak_new en sounds/en/callback-registered.wav \
    "Your call-back request is registered. We will call you back when it is your turn. Goodbye."
speak_new en sounds/en/callback-whisper.wav "Call-back to number"
speak_new en sounds/en/max-wait.wav "We are sorry, the wait is longer than usual."
speak_new en sounds/en/transfer-other-queue.wav "Transferring you to another group, please hold."

# ---------------------------------------------------------------------------------------------
# Issue 4: SOS handsets, three-way calls and transfers, emergency-contact notification.
# The ring-back tone is generated in code (hotline-switch), not here.
# ---------------------------------------------------------------------------------------------
speak_new "$zh" sounds/zh/sos-connecting.wav "紧急呼叫，正在为您接通，请保持通话。"
speak_new "$zh" sounds/zh/third-party-failed.wav "对方暂时无法接通。"
speak_new "$zh" sounds/zh/transfer-connecting.wav "正在为您转接，请稍候。"
speak_new "$zh" sounds/zh/sos-escalation-intro.wav "这里是幺二三四五热线转来的一键呼叫紧急求助。"
speak_new "$zh" sounds/zh/sos-escalation-device.wav "求助设备号码"
speak_new "$zh" sounds/zh/sos-escalation-connect.wav "现在为您接通求助老人。"
speak_new "$zh" sounds/zh/sos-contact-notify.wav \
    "您好，这里是幺二三四五热线。您的家人刚刚通过一键呼叫求助，热线已经处理。确认收到请按1。"
speak_new "$zh" sounds/zh/sos-contact-confirmed.wav "已确认，谢谢。再见。"

speak_new en sounds/en/sos-connecting.wav "Emergency call. Connecting you now, please stay on the line."
speak_new en sounds/en/third-party-failed.wav "The other party cannot be reached."
speak_new en sounds/en/transfer-connecting.wav "Transferring your call, please hold."
speak_new en sounds/en/sos-escalation-intro.wav "This is an SOS call forwarded by the 1 2 3 4 5 hotline."
speak_new en sounds/en/sos-escalation-device.wav "Device number"
speak_new en sounds/en/sos-escalation-connect.wav "Connecting you to the caller now."
speak_new en sounds/en/sos-contact-notify.wav \
    "Hello, this is the 1 2 3 4 5 hotline. Your family member has just pressed their SOS button and the hotline has handled the call. To confirm, press 1."
speak_new en sounds/en/sos-contact-confirmed.wav "Thank you, confirmed. Goodbye."
