"""The words of doctor, pharmacy and lab applications and their review, per language."""

from __future__ import annotations

EN: dict[str, str] = {
    "consent_provider": (
        "Before you apply, please read and agree (terms version {version}):\n"
        "• You work under your own registration or licence and the rules of your profession (for "
        "doctors, the Telemedicine Practice Guidelines: a remote consultation has limits, and patients "
        "are asked to visit in person when needed).\n"
        "• Your details and documents are checked by our team; once verified, your name, registration "
        "and prices are shown to patients.\n"
        "• Patients' health information you see is confidential, encrypted, and every access to it is "
        "recorded.\n"
        "• Patients pay through us; our commission is kept and the rest is paid to you."
    ),
    # --- joining ---
    "btn_join_as_provider": "I'm a doctor, pharmacy or lab",
    "ask_provider_kind": "Welcome! Which of these are you joining as?",
    "btn_join_as_doctor": "🩺 Doctor",
    "btn_join_as_pharmacy": "💊 Pharmacy",
    "btn_join_as_lab": "🧪 Lab",
    "provider_contact_taken": (
        "This {kind} already belongs to a telecare account, so this chat is now signed in to it and no "
        "new application was started. To apply as a doctor, pharmacy or lab, sign out and use a "
        "different phone number or email."
    ),
    "provider_account_created_doctor": (
        "✅ Your account is ready. Now your application: a few details about your practice, then your "
        "licence and an ID proof. An admin checks them before patients can find you."
    ),
    "provider_account_created_pharmacy": (
        "✅ Your account is ready. Now your pharmacy's application: its details and its licence. An admin "
        "checks them before orders can reach you."
    ),
    "provider_account_created_lab": (
        "✅ Your account is ready. Now your lab's application: its details and its accreditation. An admin "
        "checks them before test bookings can reach you."
    ),
    # --- the doctor's application ---
    "ask_doctor_name": "What is your full name, as on your medical registration? (without “Dr”)",
    "doctor_name_invalid": "Please type your full name using letters (2 to 100 characters), e.g. Ananya Rao.",
    "ask_qualification": "What are your qualifications? (e.g. MBBS, MD (General Medicine))",
    "qualification_invalid": "Please type your qualifications in words (2 to 200 characters), e.g. MBBS, MD.",
    "ask_council": "Which medical council are you registered with? (e.g. Karnataka Medical Council)",
    "council_invalid": "Please type the council's name (2 to 120 characters), e.g. Delhi Medical Council.",
    "ask_registration_number": "What is your registration number with {council}?",
    "registration_invalid": (
        "Please type the registration number as on your certificate: letters, digits, - or /, e.g. KMC-48213."
    ),
    "ask_specialties": (
        "Which are your specialties? Type up to {most}, separated by commas, by name or number:\n{specialties}"
    ),
    "specialties_unknown": "I couldn't match: {unknown}. Please pick from the list, by name or number.",
    "specialties_none": "Please type at least one specialty from the list.",
    "specialties_too_many": "Please choose at most {most} specialties.",
    "ask_languages": "Which languages do you consult in? Separate them with commas (e.g. Hindi, English).",
    "languages_invalid": "Please type language names in letters, separated by commas (e.g. Hindi, English).",
    "languages_too_many": "Please list at most {most} languages.",
    "ask_fee": "What is your fee for one consultation, in rupees? (e.g. 500)",
    "fee_invalid": "Please type the fee as an amount in rupees, e.g. 500 or 499.50.",
    "fee_out_of_range": "The fee must be between ₹{least} and ₹{most}.",
    "ask_bio": "A short introduction for patients (up to {most} characters), or skip it.",
    "btn_skip_bio": "Skip",
    "bio_too_long": "That is too long: please keep it under {most} characters.",
    "bio_invalid": "Please write your introduction in words (emoji and symbols are not shown to patients).",
    # --- pharmacy and lab applications ---
    "ask_pharmacy_name": "What is your pharmacy's name?",
    "ask_lab_name": "What is your lab's name?",
    "provider_name_invalid": "Please type the name in words (2 to 120 characters), without emoji.",
    "ask_provider_city": "Which city is it in?",
    "provider_city_invalid": "Please type the city's name in letters, e.g. Bengaluru.",
    "ask_pharmacy_licence_number": "What is the pharmacy's drug licence number?",
    "ask_lab_accreditation": "What is the lab's accreditation (e.g. NABL MC-4421)?",
    "provider_number_invalid": "Please type the number as on the certificate (2 to 64 characters, no emoji).",
    "ask_lab_home_collection": "Do you collect samples from patients' homes?",
    "btn_provider_yes": "Yes",
    "btn_provider_no": "No",
    # --- documents ---
    "ask_document_licence": (
        "Please send your licence as a file: a PDF, or a clear photo (JPG or PNG), up to 10 MB. "
        "In the web chat use the 📎 button."
    ),
    "ask_document_id_proof": (
        "Please send an ID proof (e.g. Aadhaar, PAN or passport) as a file: a PDF, or a clear photo "
        "(JPG or PNG), up to 10 MB."
    ),
    "ask_document_accreditation": (
        "Please send the accreditation certificate as a file: a PDF, or a clear photo (JPG or PNG), up to 10 MB."
    ),
    "document_send_a_file": (
        "That was a text message. Please send the document itself as a file (PDF, JPG or PNG) — "
        "a typed number or a link is not enough."
    ),
    "document_not_received": "We could not receive that file. Please send it again.",
    "document_wrong_type": "That kind of file can't be used. Please send a PDF, JPG or PNG.",
    "document_wrong_size": "That file is empty or larger than {megabytes} MB. Please send a smaller one.",
    "document_licence": "Licence",
    "document_id_proof": "ID proof",
    "document_accreditation": "Accreditation certificate",
    # --- summary and submission ---
    "field_label_full_name": "Name",
    "field_label_qualification": "Qualifications",
    "field_label_council": "Medical council",
    "field_label_registration_number": "Registration number",
    "field_label_specialties": "Specialties",
    "field_label_languages": "Languages",
    "field_label_fee": "Consultation fee",
    "field_label_bio": "Introduction",
    "field_label_name": "Name",
    "field_label_city": "City",
    "field_label_licence_number": "Licence number",
    "field_label_accreditation": "Accreditation",
    "field_label_home_collection": "Home collection",
    "summary_line": "• {label}: {value}",
    "summary_document": "• {document}: {ok}",
    "application_summary": "Please check your application:\n{lines}",
    "application_correct_and_resubmit": (
        "Your application was not approved. Reason: {reason}\nChange what needs correcting, then submit it again."
    ),
    "btn_submit_application": "✅ Submit for verification",
    "btn_change_answer": "✏️ Change an answer",
    "ask_which_answer": "Which answer would you like to change?",
    "application_submitted": (
        "📨 Thank you — your application is with our admins. We'll message you here as soon as it is checked."
    ),
    "application_invalid_field": "Please check this answer: {field}.",
    "application_document_missing": "The {document} is missing. Please send it.",
    "application_document_refused": "The {document} can't be used. Please send it again as a PDF, JPG or PNG.",
    "application_already_submitted": "Your application has already been sent (status: {status}).",
    "application_duplicate_registration": (
        "That registration number at that council is already registered with telecare. Please check it, "
        "or contact support if it is yours."
    ),
    "application_duplicate_name": "A pharmacy or lab with that name is already registered. Please check the name.",
    "application_wrong_role": "This account can't send that kind of application.",
    "application_invalid_reason": "Please write a reason.",
    # --- status in the menu ---
    "application_not_started": "Your application isn't finished yet. Let's complete it.",
    "application_pending_status": (
        "⏳ Your application is awaiting verification. We'll message you here when an admin has checked it."
    ),
    "application_rejected_status": "Your application was not approved. Reason: {reason}",
    "btn_to_menu": "↩️ Menu",
    # --- review by admins ---
    "applications_none": "✅ No applications are waiting for review.",
    "applications_waiting": "🗂 {total} waiting for review (showing {first}–{last}, oldest first). Pick one:",
    "application_list_item": "{icon} {name} · {date}",
    "btn_more_applications": "More…",
    "btn_back_to_applications": "↩️ Back to the list",
    "application_detail_doctor": "🩺 Dr {name} — doctor (submission {submission}, {status})\n{lines}",
    "application_detail_pharmacy": "💊 {name} — pharmacy (submission {submission}, {status})\n{lines}",
    "application_detail_lab": "🧪 {name} — lab (submission {submission}, {status})\n{lines}",
    "application_document_caption": "{document} — the link works for {minutes} minutes.",
    "application_document_line": "📎 {document}: {url}",
    "application_no_documents": "No documents are attached.",
    "application_not_found": "That application no longer exists.",
    "btn_application_approve": "✅ Approve",
    "btn_application_reject": "❌ Reject",
    "btn_show_documents": "📎 Documents again",
    "application_approved_by_you": "✅ {name} is verified. The applicant has been told.",
    "ask_rejection_reason": (
        "Why are you rejecting {name}? The applicant will read your words, so say what to correct "
        "(up to {most} characters)."
    ),
    "btn_cancel_rejection": "Cancel",
    "rejection_reason_invalid": "Please write the reason in 1 to {most} characters.",
    "application_rejected_by_you": "❌ {name} was rejected. The applicant has been told the reason.",
    "another_admin": "another admin",
    "application_already_approved": "This application was already approved by {by}.",
    "application_already_rejected": "This application was already rejected by {by}. Reason: {reason}",
}

HI: dict[str, str] = {
    "consent_provider": (
        "आवेदन से पहले कृपया ये बातें पढ़ें और अपनी सहमति दें (शर्तें, संस्करण {version}):\n"
        "• आप अपने पंजीकरण या लाइसेंस और अपने पेशे के नियमों के तहत काम करते हैं (डॉक्टरों के लिए "
        "टेलीमेडिसिन प्रैक्टिस दिशानिर्देश: दूर से परामर्श की सीमाएँ हैं, और ज़रूरत हो तो मरीज़ को आकर "
        "दिखाने के लिए कहा जाता है)।\n"
        "• आपकी जानकारी और दस्तावेज़ हमारी टीम जाँचती है; सत्यापन के बाद आपका नाम, पंजीकरण और दाम मरीज़ों "
        "को दिखाए जाते हैं।\n"
        "• मरीज़ों की जो स्वास्थ्य जानकारी आप देखते हैं वह गोपनीय और एन्क्रिप्टेड है, और उसे देखने का हर "
        "बार रिकॉर्ड होता है।\n"
        "• मरीज़ हमारे ज़रिए भुगतान करते हैं; हमारा कमीशन रखकर बाकी आपको दिया जाता है।"
    ),
    # --- joining ---
    "btn_join_as_provider": "मैं डॉक्टर, फ़ार्मेसी या लैब हूँ",
    "ask_provider_kind": "स्वागत है! आप किस रूप में जुड़ रहे हैं?",
    "btn_join_as_doctor": "🩺 डॉक्टर",
    "btn_join_as_pharmacy": "💊 फ़ार्मेसी",
    "btn_join_as_lab": "🧪 लैब",
    "provider_contact_taken": (
        "यह {kind} पहले से एक telecare खाते का है, इसलिए यह चैट उसी खाते में साइन इन हो गई है और कोई नया "
        "आवेदन शुरू नहीं हुआ। डॉक्टर, फ़ार्मेसी या लैब के रूप में आवेदन करने के लिए साइन आउट करें और कोई "
        "दूसरा फ़ोन नंबर या ईमेल इस्तेमाल करें।"
    ),
    "provider_account_created_doctor": (
        "✅ आपका खाता तैयार है। अब आपका आवेदन: आपकी प्रैक्टिस के बारे में कुछ जानकारी, फिर आपका लाइसेंस और "
        "एक पहचान-पत्र। मरीज़ आपको ढूँढ सकें, उससे पहले एक एडमिन इन्हें जाँचता है।"
    ),
    "provider_account_created_pharmacy": (
        "✅ आपका खाता तैयार है। अब आपकी फ़ार्मेसी का आवेदन: उसकी जानकारी और उसका लाइसेंस। ऑर्डर आप तक पहुँचें, "
        "उससे पहले एक एडमिन इन्हें जाँचता है।"
    ),
    "provider_account_created_lab": (
        "✅ आपका खाता तैयार है। अब आपकी लैब का आवेदन: उसकी जानकारी और उसकी मान्यता। टेस्ट बुकिंग आप तक पहुँचें, "
        "उससे पहले एक एडमिन इन्हें जाँचता है।"
    ),
    # --- the doctor's application ---
    "ask_doctor_name": "आपका पूरा नाम क्या है, जैसा आपके मेडिकल पंजीकरण में है? (“डॉ.” के बिना)",
    "doctor_name_invalid": "कृपया अपना पूरा नाम अक्षरों में लिखें (2 से 100 अक्षर), जैसे अनन्या राव।",
    "ask_qualification": "आपकी योग्यताएँ क्या हैं? (जैसे MBBS, MD (General Medicine))",
    "qualification_invalid": "कृपया अपनी योग्यताएँ शब्दों में लिखें (2 से 200 अक्षर), जैसे MBBS, MD।",
    "ask_council": "आप किस मेडिकल काउंसिल में पंजीकृत हैं? (जैसे कर्नाटक मेडिकल काउंसिल)",
    "council_invalid": "कृपया काउंसिल का नाम लिखें (2 से 120 अक्षर), जैसे दिल्ली मेडिकल काउंसिल।",
    "ask_registration_number": "{council} में आपकी पंजीकरण संख्या क्या है?",
    "registration_invalid": ("कृपया पंजीकरण संख्या वैसे ही लिखें जैसे प्रमाणपत्र पर है: अक्षर, अंक, - या /, जैसे KMC-48213।"),
    "ask_specialties": (
        "आपकी विशेषज्ञताएँ कौन-सी हैं? अधिकतम {most}, अल्पविराम से अलग करके, नाम या संख्या से लिखें:\n{specialties}"
    ),
    "specialties_unknown": "ये मेल नहीं खाए: {unknown}। कृपया सूची में से नाम या संख्या से चुनें।",
    "specialties_none": "कृपया सूची में से कम से कम एक विशेषज्ञता लिखें।",
    "specialties_too_many": "कृपया अधिकतम {most} विशेषज्ञताएँ चुनें।",
    "ask_languages": "आप किन भाषाओं में परामर्श देते हैं? अल्पविराम से अलग करें (जैसे Hindi, English)।",
    "languages_invalid": "कृपया भाषाओं के नाम अक्षरों में, अल्पविराम से अलग करके लिखें (जैसे Hindi, English)।",
    "languages_too_many": "कृपया अधिकतम {most} भाषाएँ लिखें।",
    "ask_fee": "एक परामर्श की आपकी फ़ीस कितने रुपये है? (जैसे 500)",
    "fee_invalid": "कृपया फ़ीस रुपयों में लिखें, जैसे 500 या 499.50।",
    "fee_out_of_range": "फ़ीस ₹{least} से ₹{most} के बीच होनी चाहिए।",
    "ask_bio": "मरीज़ों के लिए एक छोटा परिचय (अधिकतम {most} अक्षर), या इसे छोड़ दें।",
    "btn_skip_bio": "छोड़ें",
    "bio_too_long": "यह बहुत लंबा है: कृपया {most} अक्षरों से कम रखें।",
    "bio_invalid": "कृपया अपना परिचय शब्दों में लिखें (इमोजी और चिह्न मरीज़ों को नहीं दिखाए जाते)।",
    # --- pharmacy and lab applications ---
    "ask_pharmacy_name": "आपकी फ़ार्मेसी का नाम क्या है?",
    "ask_lab_name": "आपकी लैब का नाम क्या है?",
    "provider_name_invalid": "कृपया नाम शब्दों में लिखें (2 से 120 अक्षर), बिना इमोजी के।",
    "ask_provider_city": "यह किस शहर में है?",
    "provider_city_invalid": "कृपया शहर का नाम अक्षरों में लिखें, जैसे बेंगलुरु।",
    "ask_pharmacy_licence_number": "फ़ार्मेसी का ड्रग लाइसेंस नंबर क्या है?",
    "ask_lab_accreditation": "लैब की मान्यता क्या है (जैसे NABL MC-4421)?",
    "provider_number_invalid": "कृपया नंबर वैसे ही लिखें जैसे प्रमाणपत्र पर है (2 से 64 अक्षर, बिना इमोजी)।",
    "ask_lab_home_collection": "क्या आप मरीज़ों के घर से सैंपल लेते हैं?",
    "btn_provider_yes": "हाँ",
    "btn_provider_no": "नहीं",
    # --- documents ---
    "ask_document_licence": (
        "कृपया अपना लाइसेंस फ़ाइल के रूप में भेजें: PDF, या साफ़ फ़ोटो (JPG या PNG), 10 MB तक। वेब चैट में 📎 बटन इस्तेमाल करें।"
    ),
    "ask_document_id_proof": (
        "कृपया एक पहचान-पत्र (जैसे आधार, पैन या पासपोर्ट) फ़ाइल के रूप में भेजें: PDF, या साफ़ फ़ोटो (JPG या PNG), 10 MB तक।"
    ),
    "ask_document_accreditation": (
        "कृपया मान्यता का प्रमाणपत्र फ़ाइल के रूप में भेजें: PDF, या साफ़ फ़ोटो (JPG या PNG), 10 MB तक।"
    ),
    "document_send_a_file": (
        "यह एक टेक्स्ट संदेश था। कृपया दस्तावेज़ खुद फ़ाइल के रूप में भेजें (PDF, JPG या PNG) — लिखा हुआ नंबर या लिंक काफ़ी नहीं है।"
    ),
    "document_not_received": "हमें वह फ़ाइल नहीं मिल सकी। कृपया फिर से भेजें।",
    "document_wrong_type": "इस तरह की फ़ाइल इस्तेमाल नहीं हो सकती। कृपया PDF, JPG या PNG भेजें।",
    "document_wrong_size": "वह फ़ाइल ख़ाली है या {megabytes} MB से बड़ी है। कृपया छोटी फ़ाइल भेजें।",
    "document_licence": "लाइसेंस",
    "document_id_proof": "पहचान-पत्र",
    "document_accreditation": "मान्यता प्रमाणपत्र",
    # --- summary and submission ---
    "field_label_full_name": "नाम",
    "field_label_qualification": "योग्यताएँ",
    "field_label_council": "मेडिकल काउंसिल",
    "field_label_registration_number": "पंजीकरण संख्या",
    "field_label_specialties": "विशेषज्ञताएँ",
    "field_label_languages": "भाषाएँ",
    "field_label_fee": "परामर्श फ़ीस",
    "field_label_bio": "परिचय",
    "field_label_name": "नाम",
    "field_label_city": "शहर",
    "field_label_licence_number": "लाइसेंस नंबर",
    "field_label_accreditation": "मान्यता",
    "field_label_home_collection": "घर से सैंपल",
    "summary_line": "• {label}: {value}",
    "summary_document": "• {document}: {ok}",
    "application_summary": "कृपया अपना आवेदन जाँच लें:\n{lines}",
    "application_correct_and_resubmit": (
        "आपका आवेदन स्वीकार नहीं हुआ। कारण: {reason}\nजो ठीक करना है उसे बदलें, फिर दोबारा भेजें।"
    ),
    "btn_submit_application": "✅ सत्यापन के लिए भेजें",
    "btn_change_answer": "✏️ कोई जवाब बदलें",
    "ask_which_answer": "आप कौन-सा जवाब बदलना चाहेंगे?",
    "application_submitted": ("📨 धन्यवाद — आपका आवेदन हमारे एडमिन के पास है। जाँच होते ही हम आपको यहीं संदेश भेजेंगे।"),
    "application_invalid_field": "कृपया यह जवाब जाँचें: {field}।",
    "application_document_missing": "{document} नहीं है। कृपया इसे भेजें।",
    "application_document_refused": "{document} इस्तेमाल नहीं हो सकता। कृपया इसे PDF, JPG या PNG में फिर भेजें।",
    "application_already_submitted": "आपका आवेदन पहले ही भेजा जा चुका है (स्थिति: {status})।",
    "application_duplicate_registration": (
        "उस काउंसिल की यह पंजीकरण संख्या पहले से telecare पर पंजीकृत है। कृपया इसे जाँचें, या अगर यह आपकी है "
        "तो सहायता से संपर्क करें।"
    ),
    "application_duplicate_name": "इस नाम की फ़ार्मेसी या लैब पहले से पंजीकृत है। कृपया नाम जाँचें।",
    "application_wrong_role": "यह खाता इस तरह का आवेदन नहीं भेज सकता।",
    "application_invalid_reason": "कृपया कारण लिखें।",
    # --- status in the menu ---
    "application_not_started": "आपका आवेदन अभी पूरा नहीं हुआ है। आइए इसे पूरा करें।",
    "application_pending_status": (
        "⏳ आपका आवेदन सत्यापन की प्रतीक्षा में है। एडमिन के जाँच लेने पर हम आपको यहीं संदेश भेजेंगे।"
    ),
    "application_rejected_status": "आपका आवेदन स्वीकार नहीं हुआ। कारण: {reason}",
    "btn_to_menu": "↩️ मेनू",
    # --- review by admins ---
    "applications_none": "✅ समीक्षा के लिए कोई आवेदन बाकी नहीं है।",
    "applications_waiting": "🗂 {total} आवेदन समीक्षा की प्रतीक्षा में ({first}–{last} दिखाए गए, सबसे पुराने पहले)। एक चुनें:",
    "application_list_item": "{icon} {name} · {date}",
    "btn_more_applications": "और…",
    "btn_back_to_applications": "↩️ सूची पर वापस",
    "application_detail_doctor": "🩺 डॉ. {name} — डॉक्टर (बार {submission}, {status})\n{lines}",
    "application_detail_pharmacy": "💊 {name} — फ़ार्मेसी (बार {submission}, {status})\n{lines}",
    "application_detail_lab": "🧪 {name} — लैब (बार {submission}, {status})\n{lines}",
    "application_document_caption": "{document} — यह लिंक {minutes} मिनट तक काम करता है।",
    "application_document_line": "📎 {document}: {url}",
    "application_no_documents": "कोई दस्तावेज़ संलग्न नहीं है।",
    "application_not_found": "वह आवेदन अब मौजूद नहीं है।",
    "btn_application_approve": "✅ स्वीकार करें",
    "btn_application_reject": "❌ अस्वीकार करें",
    "btn_show_documents": "📎 दस्तावेज़ फिर से",
    "application_approved_by_you": "✅ {name} सत्यापित हो गए। आवेदक को बता दिया गया है।",
    "ask_rejection_reason": (
        "आप {name} को क्यों अस्वीकार कर रहे हैं? आवेदक आपके शब्द पढ़ेगा, इसलिए बताएँ कि क्या ठीक करना है "
        "(अधिकतम {most} अक्षर)।"
    ),
    "btn_cancel_rejection": "रद्द करें",
    "rejection_reason_invalid": "कृपया कारण 1 से {most} अक्षरों में लिखें।",
    "application_rejected_by_you": "❌ {name} अस्वीकार कर दिए गए। आवेदक को कारण बता दिया गया है।",
    "another_admin": "किसी दूसरे एडमिन",
    "application_already_approved": "यह आवेदन पहले ही {by} द्वारा स्वीकार किया जा चुका है।",
    "application_already_rejected": "यह आवेदन पहले ही {by} द्वारा अस्वीकार किया जा चुका है। कारण: {reason}",
}
